package media

import (
	"net/netip"

	"github.com/pion/rtp"
)

// The tap: a copy of every RTP and RTCP packet a session sends or receives, for a capture
// file (dialtone --pcap-rtp). Packets are tapped plain, where the SRTP seam (srtp.go) has
// them: before protecting on the way out, after unprotecting on the way in, so an SRTP
// call's capture holds decrypted media (TapPacket.Decrypted says so) and no keys. With no tap
// (Config.Tap nil) a packet costs one nil check.

// TapPacket is one tapped packet.
type TapPacket struct {
	Sent bool // sent by this session, else received (and accepted by SRTP, if encrypted)
	RTCP bool // RTCP, else RTP
	// Local is this session's socket; Remote the far end's address (where a sent packet
	// goes, where a received RTP packet came from; for received RTCP, the far end's RTCP
	// address as negotiated or latched).
	Local, Remote netip.AddrPort
	// Data is the plain packet; it is valid only during the call: a tap copies what it keeps.
	Data []byte
	// Decrypted says the packet was SRTP/SRTCP on the wire.
	Decrypted bool
}

// Tap is told of each packet on the media path: it must return at once, never block, and
// copy Data if it keeps it (phone/pcap's Writer.WriteMedia queues without blocking).
type Tap func(TapPacket)

// tapRTPOut taps the plain RTP packet b about to be protected and sent with p.
func (s *Session) tapRTPOut(p Params, b []byte) {
	if s.cfg.Tap == nil {
		return
	}
	dst, _ := s.targets(p)
	s.cfg.Tap(TapPacket{Sent: true, Local: s.local, Remote: dst, Data: b, Decrypted: p.SRTP != nil})
}

// tapRTPIn taps a received RTP packet from from, once unprotected: b is the datagram, pkt its
// parse, whose payload and padding end the plain packet (SRTP's tag follows them in b).
func (s *Session) tapRTPIn(p Params, b []byte, pkt *rtp.Packet, from netip.AddrPort) {
	if s.cfg.Tap == nil {
		return
	}
	if p.SRTP != nil && sameArray(b, pkt.Payload) { // decrypted in place: the plain packet ends after payload and padding
		if end := cap(b) - cap(pkt.Payload) + len(pkt.Payload) + int(pkt.Header.PaddingSize); end >= 0 && end <= len(b) {
			b = b[:end]
		}
	}
	s.cfg.Tap(TapPacket{Local: s.local, Remote: from, Data: b, Decrypted: p.SRTP != nil})
}

// tapRTCPOut taps the plain compound RTCP packet b about to be protected and sent with p, and
// returns b (so the send path taps it in one expression).
func (s *Session) tapRTCPOut(p Params, b []byte) []byte {
	if s.cfg.Tap != nil {
		_, dst := s.targets(p)
		s.cfg.Tap(TapPacket{Sent: true, RTCP: true, Local: s.rtcpLocal(), Remote: dst, Data: b, Decrypted: p.SRTP != nil})
	}
	return b
}

// tapRTCPIn taps a received compound RTCP packet, once unprotected. The far end is the
// address its RTCP is accepted from (fromFarEndRTCP checked the source against it).
func (s *Session) tapRTCPIn(p Params, b []byte) {
	if s.cfg.Tap == nil {
		return
	}
	_, from := s.targets(p)
	s.cfg.Tap(TapPacket{RTCP: true, Local: s.rtcpLocal(), Remote: from, Data: b, Decrypted: p.SRTP != nil})
}

// rtcpLocal is the RTCP socket's address: the RTP port + 1 (bindPair).
func (s *Session) rtcpLocal() netip.AddrPort {
	return netip.AddrPortFrom(s.local.Addr(), s.local.Port()+1)
}

// sameArray reports whether sub is a slice of b's backing array (both end there).
func sameArray(b, sub []byte) bool {
	return cap(b) > 0 && cap(sub) > 0 && &b[:cap(b)][cap(b)-1] == &sub[:cap(sub)][cap(sub)-1]
}
