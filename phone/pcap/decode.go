package pcap

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// Link types Decode understands besides LinkTypeRaw.
const (
	linkNull     = 0   // BSD loopback: 4-byte address family in host order
	linkEthernet = 1   // Ethernet II, with 802.1Q/802.1ad tags
	linkRaw12    = 12  // DLT_RAW on some BSDs
	linkRaw14    = 14  // DLT_RAW on OpenBSD
	linkLoop     = 108 // OpenBSD loopback: the family in network order
	linkSLL      = 113 // Linux "any" device
	linkIPv4     = 228
	linkIPv6     = 229
	linkSLL2     = 276
)

// Datagram is one UDP datagram or TCP segment and its addresses.
type Datagram struct {
	Time     time.Time
	TCP      bool // else UDP
	Src, Dst netip.AddrPort
	Payload  []byte // shares the packet's buffer
	Comment  string
}

// Decode finds the UDP datagram or TCP segment in p; ok is false for anything else (other
// protocols, fragments after the first, truncated headers).
func Decode(p Packet) (d Datagram, ok bool) {
	ip, ok := network(p.LinkType, p.Data)
	if !ok {
		return d, false
	}
	var src, dst netip.Addr
	var proto uint8
	var l4 []byte
	switch ip[0] >> 4 {
	case 4:
		if len(ip) < ipv4HeaderLen {
			return d, false
		}
		ihl := int(ip[0]&0x0F) * 4
		total := int(binary.BigEndian.Uint16(ip[2:]))
		if ihl < ipv4HeaderLen || len(ip) < ihl || total < ihl {
			return d, false
		}
		if binary.BigEndian.Uint16(ip[6:])&0x1FFF != 0 {
			return d, false // a later fragment: no transport header
		}
		src, dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
		proto, l4 = ip[9], ip[ihl:min(len(ip), total)]
	case 6:
		if len(ip) < ipv6HeaderLen {
			return d, false
		}
		src, dst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
		proto, l4 = ip[6], ip[ipv6HeaderLen:min(len(ip), ipv6HeaderLen+int(binary.BigEndian.Uint16(ip[4:])))]
	ext:
		for range 8 { // extension headers, a bounded number of them
			switch proto {
			case 0, 43, 60: // hop-by-hop, routing, destination options
				if len(l4) < 8 || len(l4) < 8+int(l4[1])*8 {
					return d, false
				}
				proto, l4 = l4[0], l4[8+int(l4[1])*8:]
				continue
			case 44: // fragment
				if len(l4) < 8 || binary.BigEndian.Uint16(l4[2:])&0xFFF8 != 0 {
					return d, false
				}
				proto, l4 = l4[0], l4[8:]
				continue
			}
			break ext
		}
	default:
		return d, false
	}
	d = Datagram{Time: p.Time, Comment: p.Comment}
	switch proto {
	case protoUDP:
		if len(l4) < udpHeaderLen {
			return d, false
		}
		n := int(binary.BigEndian.Uint16(l4[4:]))
		d.Payload = l4[udpHeaderLen:]
		if n >= udpHeaderLen && n-udpHeaderLen < len(d.Payload) {
			d.Payload = d.Payload[:n-udpHeaderLen] // Ethernet padding after a short datagram
		}
	case protoTCP:
		if len(l4) < tcpHeaderLen {
			return d, false
		}
		off := int(l4[12]>>4) * 4
		if off < tcpHeaderLen || off > len(l4) {
			return d, false
		}
		d.TCP, d.Payload = true, l4[off:]
	default:
		return d, false
	}
	d.Src = netip.AddrPortFrom(src.Unmap(), binary.BigEndian.Uint16(l4[0:]))
	d.Dst = netip.AddrPortFrom(dst.Unmap(), binary.BigEndian.Uint16(l4[2:]))
	return d, true
}

// network strips the link-layer header of a frame of linkType and returns the IP packet.
func network(linkType int, b []byte) ([]byte, bool) {
	switch linkType {
	case LinkTypeRaw, linkRaw12, linkRaw14, linkIPv4, linkIPv6:
	case linkNull, linkLoop:
		if len(b) < 4 {
			return nil, false
		}
		b = b[4:]
	case linkEthernet:
		if len(b) < 14 {
			return nil, false
		}
		et, rest := binary.BigEndian.Uint16(b[12:]), b[14:]
		for i := 0; i < 2 && (et == 0x8100 || et == 0x88A8); i++ { // VLAN tags
			if len(rest) < 4 {
				return nil, false
			}
			et, rest = binary.BigEndian.Uint16(rest[2:]), rest[4:]
		}
		if et != 0x0800 && et != 0x86DD {
			return nil, false
		}
		b = rest
	case linkSLL:
		if len(b) < 16 {
			return nil, false
		}
		b = b[16:]
	case linkSLL2:
		if len(b) < 20 {
			return nil, false
		}
		b = b[20:]
	default:
		return nil, false
	}
	if len(b) == 0 {
		return nil, false
	}
	return b, true
}
