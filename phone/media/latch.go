package media

import (
	"net/netip"
	"time"
)

// LatchWindow is how long after the stream starts (or the far end's SDP address changes) RTP
// from an address other than the one in the SDP may take over the stream.
//
// The policy (symmetric RTP, RFC 4961; "comedia" in rtpengine and Asterisk's learning mode):
// a far end behind NAT writes its private address in its SDP, but its packets arrive from the
// NAT's public address. So until a first valid packet has arrived, the first RTP packet of the
// negotiated payload types from anywhere latches the stream: we receive only from that source
// and send to it from then on. RTP from the SDP address itself always latches at once. After
// latching, every other source is dropped and counted, so nobody can inject audio into a
// running call; an attacker can only win the race in the first seconds, before the real far
// end has sent anything, which is the same exposure every latching peer accepts.
const LatchWindow = 10 * time.Second

// latch is the receiver's choice of source. Guarded by receiver.mu.
type latch struct {
	source   netip.AddrPort // the RTP source we accept; invalid until latched
	rtcp     netip.AddrPort // the RTCP source seen from the latched host, where reports go
	deadline time.Time      // until then a foreign source may latch
	sdp      netip.AddrPort // the SDP address the window was opened for
	// After the far end moved: its SDP address and latched source before the move. A packet
	// of the old stream still on its way (the gateway that played early media, when another
	// fork answered from behind a NAT) is a foreign first packet in the new window; latched,
	// it took the stream for the rest of the call and the new far end's audio was dropped. So
	// an old source must send latchProbation packets in a row before it latches (a far end
	// that kept its NAT mapping across a hold and resume does at once), and a new source
	// latches over an old one while the window is open.
	before     [2]netip.AddrPort
	probe      netip.AddrPort // the old source proving itself, and its packets in a row
	probeN     int
	fromBefore bool // source is an old one, latched by probation
}

// latchProbation is how many packets in a row a source from before a move sends before it
// latches (Asterisk's RTP learning asks 4 in sequence of any new source).
const latchProbation = 4

// reset opens a new latching window for the SDP address remote, remembering the stream's
// addresses before it. A window open for remote already stays as it is: Update resets after a
// packet of the new parameters may have (admit), and a second reset would take what latched
// in between for an old source, and the old stream's for a new one.
func (l *latch) reset(remote netip.AddrPort, now time.Time) {
	if l.sdp == remote && !l.deadline.IsZero() {
		return
	}
	*l = latch{deadline: now.Add(LatchWindow), sdp: remote, before: [2]netip.AddrPort{l.sdp, l.source}}
}

// reopen opens the latching window again from now while nothing has latched: the far end's
// answer after early media it never sent. A source that latched stays; so does a window that
// is still open longer.
func (l *latch) reopen(now time.Time) {
	if !l.source.IsValid() && now.Add(LatchWindow).After(l.deadline) {
		l.deadline = now.Add(LatchWindow)
	}
}

// proven counts a packet from from towards latchProbation in a row; true once it has them.
func (l *latch) proven(from netip.AddrPort) bool {
	if from != l.probe {
		l.probe, l.probeN = from, 0
	}
	l.probeN++
	return l.probeN >= latchProbation
}

// isBefore says whether from was the far end's SDP address or latched source before it moved.
func (l *latch) isBefore(from netip.AddrPort) bool {
	return from.IsValid() && (from == l.before[0] || from == l.before[1])
}

// admit decides whether an RTP packet from from may be played, latching if the policy allows.
// It reports whether the packet is accepted and whether this packet latched a new source.
func (l *latch) admit(from, sdp netip.AddrPort, allowForeign bool, now time.Time) (ok, latched bool) {
	if sdp != l.sdp {
		l.reset(sdp, now) // the far end moved (re-INVITE): learn again
	}
	switch {
	case from == sdp:
		// The SDP address is authoritative: it wins even over a source latched earlier, so a
		// stranger who raced the far end's first packet loses the stream as soon as it speaks.
		l.source, l.fromBefore = from, false
		return true, false
	case from == l.source:
		return true, false
	case !allowForeign:
		return false, false
	case !now.Before(l.deadline):
		// The window closed with nothing latched: the far end's own source from before the
		// move, sending too sparsely to prove itself in time (comfort noise every few
		// seconds), is still the far end.
		if !l.source.IsValid() && l.isBefore(from) {
			l.source, l.fromBefore = from, true
			return true, true
		}
		return false, false
	case l.isBefore(from):
		if l.source.IsValid() || !l.proven(from) {
			return false, false
		}
		l.source, l.fromBefore = from, true
		return true, true
	case !l.source.IsValid():
		l.source, l.fromBefore = from, false // a new source's first packet latches
		return true, true
	case !l.fromBefore:
		return false, false
	case l.proven(from):
		// A new source over an old one that proved itself: it too sends a few in a row, so
		// that one stranger's packet cannot take a stream the far end holds.
		l.source, l.fromBefore = from, false
		return true, true
	}
	return false, false
}

// rtpTarget is where RTP goes: the latched source, else the SDP address.
func (l *latch) rtpTarget(sdp netip.AddrPort) netip.AddrPort {
	if l.source.IsValid() && l.sdp == sdp {
		return l.source
	}
	return sdp
}

// rtcpTarget is where RTCP goes: an RTCP source seen from the latched host, else the latched
// host's RTP port + 1 when we latched away from the SDP address, else the SDP's RTCP address.
func (l *latch) rtcpTarget(sdp, sdpRTCP netip.AddrPort) netip.AddrPort {
	if !l.source.IsValid() || l.sdp != sdp {
		return sdpRTCP
	}
	if l.rtcp.IsValid() {
		return l.rtcp
	}
	if l.source != sdp {
		return netip.AddrPortFrom(l.source.Addr(), l.source.Port()+1)
	}
	return sdpRTCP
}

// noteRTCP remembers where the latched host's RTCP comes from (its NAT gives the RTCP socket
// a mapping of its own, rarely RTP's port + 1). It reports whether the report is from the far
// end at all: RTCP from other hosts is ignored.
func (l *latch) noteRTCP(from, sdpRTCP netip.AddrPort) bool {
	switch {
	case l.source.IsValid() && from.Addr() == l.source.Addr():
		l.rtcp = from
		return true
	case from == sdpRTCP:
		return true
	}
	return false
}
