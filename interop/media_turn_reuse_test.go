package interop

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
	"github.com/dialtone/dialtone/phone/media"
)

// TestTURNAllocationRightAfterRelease: a call that reuses the RTP and RTCP ports of a relayed
// call that has just ended (a narrow --rtp-ports range) still gets a relay. coturn keeps the
// released allocation for about a second and answers the new Allocate from the same address
// with 437 (Allocation Mismatch); the session waits for it instead of going direct.
func TestTURNAllocationRightAfterRelease(t *testing.T) {
	t.Parallel()
	turnSrv := peers.StartCoturn(t, peers.CoturnOptions{})
	server := netip.MustParseAddrPort(turnSrv.Addr(0))
	lo := netip.MustParseAddr("127.0.0.1")
	port := freeEvenPair(t)
	relay := media.Relay{Server: server, User: turnSrv.User(), Password: turnSrv.Password()}
	var prev netip.AddrPort
	for call := 1; call <= 2; call++ {
		s, err := media.Open(media.Config{IP: lo, PortMin: port, PortMax: port + 1})
		if err != nil {
			t.Fatalf("call %d: %v", call, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		start := time.Now()
		rtp, rtcp, err := s.UseRelay(ctx, relay)
		cancel()
		took := time.Since(start)
		s.Close() // releases both allocations (a Refresh with lifetime 0)
		if err != nil {
			t.Fatalf("call %d from port %d: %v\n%s", call, port, err, turnSrv.Log())
		}
		if s.LocalAddr().Port() != uint16(port) || !rtp.IsValid() || !rtcp.IsValid() || rtp == prev {
			t.Fatalf("call %d: local %v, relayed %v / %v (previous call's %v)", call, s.LocalAddr(), rtp, rtcp, prev)
		}
		t.Logf("call %d from port %d: relayed at %v and %v after %v", call, port, rtp, rtcp, took.Round(time.Millisecond))
		prev = rtp
	}
}

// freeEvenPair returns an even port p with p and p+1 free for UDP on 127.0.0.1 just now.
func freeEvenPair(t *testing.T) int {
	t.Helper()
	for range 50 {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		p := c.LocalAddr().(*net.UDPAddr).Port &^ 1
		c.Close()
		a, err1 := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		b, err2 := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p + 1})
		if a != nil {
			a.Close()
		}
		if b != nil {
			b.Close()
		}
		if err1 == nil && err2 == nil && p >= 1024 {
			return p
		}
	}
	t.Fatal("no free even UDP port pair on 127.0.0.1")
	return 0
}
