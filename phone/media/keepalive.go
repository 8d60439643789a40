package media

import (
	"errors"
	"time"

	"github.com/dialtone/dialtone/phone/nat"
)

// KeepAliveInterval is how long the RTP socket may send nothing (on hold, recvonly, a far end
// that holds us) before a keep-alive goes out. A NAT forgets an idle UDP mapping after 30 s or
// more; once forgotten, the far end's audio no longer reaches us when the call resumes.
const KeepAliveInterval = 15 * time.Second

var stunIndication = nat.Indication()

// keepAlive sends a STUN Binding indication to the far end's RTP address when nothing has
// been sent for KeepAliveInterval (RFC 6263 lists it among the keep-alives peers must
// tolerate; RFC 7983 peers tell it from RTP by its first byte). RTCP keeps its own mapping
// open: reports go out every 5 s whatever the direction.
func (s *Session) keepAlive(p Params, now time.Time) {
	if !p.Remote.IsValid() {
		return
	}
	last := s.stats.lastSent.Load()
	if last == 0 {
		s.stats.lastSent.Store(now.UnixNano()) // the interval counts from the start
		return
	}
	if now.Sub(time.Unix(0, last)) < KeepAliveInterval {
		return
	}
	dst, _ := s.targets(p)
	if _, err := s.rtpIO.WriteToUDPAddrPort(stunIndication, dst); err != nil {
		s.log.Debug("rtp keep-alive", "err", err)
		if errors.Is(err, errNoPermission) {
			// The relay has no permission for the peer yet: try again an interval from now,
			// not at every tick.
			s.stats.lastSent.Store(now.UnixNano())
		}
		return
	}
	s.stats.lastSent.Store(now.UnixNano())
	s.stats.keepAlives.Add(1)
}
