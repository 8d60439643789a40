package media

import "net/netip"

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
