package pcap

import (
	"encoding/binary"
	"net/netip"
)

// Synthetic network headers. dialtone never sees the IP and UDP/TCP headers of what it sends
// and receives (the sockets hide them), so the capture writes headers that would have carried
// the payload between the two addresses: LINKTYPE_RAW, IPv4 or IPv6 by the addresses, with
// correct lengths and checksums, so Wireshark neither flags them nor needs an option to
// ignore bad checksums.

const (
	protoTCP = 6
	protoUDP = 17

	ipv4HeaderLen = 20
	ipv6HeaderLen = 40
	udpHeaderLen  = 8
	tcpHeaderLen  = 20

	// maxIPPayload keeps every synthetic packet within IPv4's 16-bit total length; a longer
	// SIP message over TCP is cut into segments of this size.
	maxIPPayload = 65535 - ipv4HeaderLen - tcpHeaderLen
)

// TCP flags the synthetic segments carry.
const (
	tcpPSH = 0x08
	tcpACK = 0x10
)

// headerLen is the length of the IP and transport headers for a packet between src and dst
// (IPv4 when both addresses are IPv4 or IPv4-mapped) with transport proto.
func headerLen(src, dst netip.AddrPort, proto uint8) int {
	n := ipv4HeaderLen
	if !src.Addr().Unmap().Is4() || !dst.Addr().Unmap().Is4() {
		n = ipv6HeaderLen
	}
	if proto == protoTCP {
		return n + tcpHeaderLen
	}
	return n + udpHeaderLen
}

// segment describes the TCP fields of a synthetic segment; unused for UDP.
type segment struct {
	seq, ack uint32
}

// buildPacket writes the IP header, the transport header and payload into buf (which must
// have room for headerLen + len(payload)) and returns the packet. src and dst must be of
// the same family (one IPv4 and one IPv6 address: the IPv4 one is written as IPv4-mapped).
func buildPacket(buf []byte, proto uint8, src, dst netip.AddrPort, seg segment, payload []byte) []byte {
	sa, da := src.Addr().Unmap(), dst.Addr().Unmap()
	v4 := sa.Is4() && da.Is4()
	if !v4 {
		sa, da = as16(sa), as16(da)
	}
	tl := udpHeaderLen
	if proto == protoTCP {
		tl = tcpHeaderLen
	}
	ipl := ipv6HeaderLen
	if v4 {
		ipl = ipv4HeaderLen
	}
	total := ipl + tl + len(payload)
	pkt := buf[:total]
	copy(pkt[ipl+tl:], payload)
	tr := pkt[ipl:]
	binary.BigEndian.PutUint16(tr[0:], src.Port())
	binary.BigEndian.PutUint16(tr[2:], dst.Port())
	if proto == protoTCP {
		binary.BigEndian.PutUint32(tr[4:], seg.seq)
		binary.BigEndian.PutUint32(tr[8:], seg.ack)
		tr[12] = (tcpHeaderLen / 4) << 4
		tr[13] = tcpPSH | tcpACK
		binary.BigEndian.PutUint16(tr[14:], 65535) // window
		tr[16], tr[17] = 0, 0                      // checksum, below
		tr[18], tr[19] = 0, 0                      // urgent pointer
	} else {
		binary.BigEndian.PutUint16(tr[4:], uint16(tl+len(payload)))
		tr[6], tr[7] = 0, 0
	}
	sum := pseudoHeaderSum(sa, da, proto, tl+len(payload))
	c := ^fold(sum + onesSum(tr))
	if proto == protoUDP {
		if c == 0 {
			c = 0xFFFF // 0 means "no checksum" in UDP (RFC 768)
		}
		binary.BigEndian.PutUint16(tr[6:], c)
	} else {
		binary.BigEndian.PutUint16(tr[16:], c)
	}
	if v4 {
		h := pkt[:ipv4HeaderLen]
		h[0] = 0x45
		h[1] = 0
		binary.BigEndian.PutUint16(h[2:], uint16(total))
		h[4], h[5] = 0, 0    // identification
		h[6], h[7] = 0x40, 0 // don't fragment
		h[8] = 64            // TTL
		h[9] = proto
		h[10], h[11] = 0, 0
		a4, b4 := sa.As4(), da.As4()
		copy(h[12:16], a4[:])
		copy(h[16:20], b4[:])
		binary.BigEndian.PutUint16(h[10:], ^fold(onesSum(h)))
	} else {
		h := pkt[:ipv6HeaderLen]
		h[0], h[1], h[2], h[3] = 0x60, 0, 0, 0
		binary.BigEndian.PutUint16(h[4:], uint16(tl+len(payload)))
		h[6] = proto
		h[7] = 64 // hop limit
		a16, b16 := sa.As16(), da.As16()
		copy(h[8:24], a16[:])
		copy(h[24:40], b16[:])
	}
	return pkt
}

// as16 is a as an IPv6 address (IPv4-mapped when it is IPv4).
func as16(a netip.Addr) netip.Addr {
	if a.Is4() {
		return netip.AddrFrom16(a.As16())
	}
	if !a.IsValid() {
		return netip.IPv6Unspecified()
	}
	return a
}

// pseudoHeaderSum is the ones' complement sum of the UDP/TCP pseudo-header (RFC 768, RFC
// 9293, RFC 8200 §8.1), not yet folded.
func pseudoHeaderSum(src, dst netip.Addr, proto uint8, length int) uint32 {
	var s uint32
	if src.Is4() {
		a, b := src.As4(), dst.As4()
		s = onesSum(a[:]) + onesSum(b[:])
	} else {
		a, b := src.As16(), dst.As16()
		s = onesSum(a[:]) + onesSum(b[:])
	}
	return s + uint32(proto) + uint32(length>>16) + uint32(length&0xFFFF)
}

// onesSum adds b as big-endian 16-bit words (an odd last byte padded with zero), unfolded.
func onesSum(b []byte) uint32 {
	var s uint32
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
		if s > 0x7FFFFFFF {
			s = s&0xFFFF + s>>16
		}
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

// fold folds a 32-bit ones' complement sum into 16 bits.
func fold(s uint32) uint16 {
	for s>>16 != 0 {
		s = s&0xFFFF + s>>16
	}
	return uint16(s)
}

// cutUDP rewrites the lengths of the UDP packet pkt, whose payload was cut short, to those
// of the whole packet (wireLen bytes): the capture says how long it was. Its UDP checksum
// becomes 0 ("none"), since the missing bytes cannot be summed.
func cutUDP(pkt []byte, wireLen int) {
	if pkt[0]>>4 == 4 {
		binary.BigEndian.PutUint16(pkt[2:], uint16(min(wireLen, 65535)))
		pkt[10], pkt[11] = 0, 0
		binary.BigEndian.PutUint16(pkt[10:], ^fold(onesSum(pkt[:ipv4HeaderLen])))
		u := pkt[ipv4HeaderLen:]
		binary.BigEndian.PutUint16(u[4:], uint16(min(wireLen-ipv4HeaderLen, 65535)))
		u[6], u[7] = 0, 0
		return
	}
	binary.BigEndian.PutUint16(pkt[4:], uint16(min(wireLen-ipv6HeaderLen, 65535)))
	u := pkt[ipv6HeaderLen:]
	binary.BigEndian.PutUint16(u[4:], uint16(min(wireLen-ipv6HeaderLen, 65535)))
	u[6], u[7] = 0, 0 // not allowed over IPv6 on the wire, but the bytes to sum are gone
}
