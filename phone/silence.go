package phone

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/dialtone/dialtone/phone/nat"
)

// silenceWarnAfter is how long an answered call may receive no RTP before we say so: long
// enough for any jitter or a slow far end, short enough that the user still has the caller
// on the line when the hint appears.
const silenceWarnAfter = 5 * time.Second

// defaultRTPTimeout ends calls whose far end sent neither RTP nor RTCP for this long.
const defaultRTPTimeout = 30 * time.Second

// MediaWarning says an answered call receives no audio, with the likely cause in plain words.
type MediaWarning struct {
	Time     time.Time
	CallID   string
	Account  string
	Reason   string
	SinceRTP time.Duration // how long nothing has arrived
}

// EventTime implements Event.
func (e MediaWarning) EventTime() time.Time { return e.Time }

// rtpTimeout is the configured media timeout; 0 means never.
func (p *Phone) rtpTimeout() time.Duration {
	switch {
	case p.cfg.RTPTimeout < 0:
		return 0
	case p.cfg.RTPTimeout == 0:
		return defaultRTPTimeout
	}
	return p.cfg.RTPTimeout
}

// silenceWatch turns the silence counter into one warning per silent stretch.
type silenceWatch struct{ warned bool }

func (w *silenceWatch) check(sinceRTP time.Duration) (MediaWarning, bool) {
	switch {
	case sinceRTP < silenceWarnAfter:
		w.warned = false // audio flows (or we are not expecting any): warn again next time
		return MediaWarning{}, false
	case w.warned:
		return MediaWarning{}, false
	}
	w.warned = true
	return MediaWarning{SinceRTP: sinceRTP}, true
}

// silenceCause names the likely reason for a silent call from what we know of the network.
func silenceCause(ours mediaAddr, theirs netip.AddrPort, hadAudio bool) string {
	switch {
	case hadAudio:
		return "the far end stopped sending audio (it went away, or the network in between dropped the stream)"
	case ours.Kind == nat.Symmetric:
		return fmt.Sprintf("no audio from the far end: our NAT is symmetric (it maps %s to a new public port for every destination), so the address in our SDP (%s) works only for the STUN server; configure turn_server, or use a provider with a media relay",
			ours.Local, ours.IP)
	case !ours.behindNAT() && theirs.IsValid() && theirs.Addr() != ours.Local.Addr() && !isPublicAddr(ours.Local.Addr()):
		return fmt.Sprintf("no audio from the far end: our SDP carries our local address %s, which the far end may not reach if we are behind NAT; set stun_server, or register over UDP so the registrar tells us our public address", ours.Local.Addr())
	case ours.behindNAT():
		return fmt.Sprintf("no audio from the far end although our SDP carries our public address %s (learnt from %s): the NAT or a firewall drops the far end's RTP to port %d, or the far end sends to another address (it may be behind NAT itself, advertising %s)",
			ours.IP, ours.Source, ours.RTP, theirs.Addr())
	}
	return fmt.Sprintf("no audio from the far end at %s: it sends nothing, or a firewall drops UDP to our port %d", theirs, ours.Local.Port())
}

// isPublicAddr reports whether a is an address the whole Internet can route to us.
func isPublicAddr(a netip.Addr) bool {
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() && !isDocumentation(a) && !isSharedCGN(a)
}

// isDocumentation covers RFC 5737 and RFC 3849 ranges: not routable, so treat them as private.
func isDocumentation(a netip.Addr) bool {
	for _, p := range []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"} {
		if netip.MustParsePrefix(p).Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// isSharedCGN is RFC 6598's carrier-grade NAT range.
func isSharedCGN(a netip.Addr) bool {
	return netip.MustParsePrefix("100.64.0.0/10").Contains(a.Unmap())
}
