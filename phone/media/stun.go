package media

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/dialtone/dialtone/phone/nat"
)

// Discover asks a STUN server how the network sees the RTP and RTCP sockets (their public,
// server-reflexive addresses). It must be called before Start: afterwards the receive loops
// own the sockets. An invalid rtcp with a nil error means only RTCP's answer was lost.
func (s *Session) Discover(ctx context.Context, server netip.AddrPort) (rtp, rtcp netip.AddrPort, err error) {
	s.mu.Lock()
	started := !s.started.IsZero()
	s.mu.Unlock()
	if started {
		return netip.AddrPort{}, netip.AddrPort{}, errors.New("media: STUN after Start")
	}
	rtp, err = nat.Binding(ctx, s.rtpConn, server)
	if err != nil {
		return netip.AddrPort{}, netip.AddrPort{}, fmt.Errorf("rtp socket: %w", err)
	}
	if r, err := nat.Binding(ctx, s.rtcpConn, server); err == nil {
		rtcp = r
	}
	return rtp, rtcp, nil
}
