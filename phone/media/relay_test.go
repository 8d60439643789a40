package media

import (
	"context"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/codec"
	"github.com/pion/turn/v4"
)

// TestHalfAFailedRelayLetsGo: the TURN server grants the RTP socket its allocation and refuses
// the RTCP socket's (a quota, say). UseRelay fails and lets go of the RTP allocation whole:
// its TURN client and the reader it ran on the call's RTP socket stop (the reader stayed, as
// a rival for the far end's packets, until the call ended). The call then goes on with direct
// media on the same session, and the far end's tone is played. The server is pion's,
// in-process; the real coturn runs in the interop tests.
func TestHalfAFailedRelayLetsGo(t *testing.T) {
	a, b := openPair(t)
	rtcpAddr := a.rtcpConn.LocalAddr().(*net.UDPAddr).AddrPort()
	server := startTURN(t, func(from net.Addr) bool {
		ua, ok := from.(*net.UDPAddr)
		return ok && ua.AddrPort() != rtcpAddr
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := a.UseRelay(ctx, Relay{Server: server, User: "alice", Password: "secret"})
	if err == nil || !strings.Contains(err.Error(), "rtcp") {
		t.Fatalf("UseRelay: %v, want the RTCP allocation refused", err)
	}
	if stacks := goroutineStacks(); strings.Contains(stacks, "media.feed") {
		t.Fatalf("the RTP allocation's TURN reader still runs after UseRelay failed:\n%s", stacks)
	}
	rec := audiotest.NewRecorder()
	a.Start(Params{Remote: b.LocalAddr(), Codec: codec.PCMU, DTMFPT: -1, Send: true, Receive: true, Sink: rec})
	b.Start(Params{Remote: a.LocalAddr(), Codec: codec.PCMU, DTMFPT: -1, Send: true, Receive: true,
		Source: audiotest.NewTone(1000, 0.5), Sink: audiotest.NewRecorder()})
	time.Sleep(1500 * time.Millisecond) // real time: the network path, not a timed assertion
	st := a.Stats()
	if st.PacketsReceived < 50 {
		t.Fatalf("stats %+v: the far end's RTP did not reach the call", st)
	}
	if found, _, _ := audiotest.DetectTone(rec.Samples(), 8000, 1000); !found {
		t.Fatal("the far end's tone was not played")
	}
}

// TestRelayWriteNeverWaitsForAPermission: pion creates a TURN permission inside the first
// WriteTo to a new peer address and waits for the server's answer there (retransmitting for
// seconds when none comes): in the shared pacer that held up every session on its worker.
// Against a server that never answers CreatePermission, the relay's write returns at once
// (the packet dropped, as the server would), and the permission is made in the background;
// with a server that answers, Start's and Update's far ends get theirs.
func TestRelayWriteNeverWaitsForAPermission(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, b := openPairBehindDeafRelay(ctx, t)
	rtpRelay := a.rtpIO.(*relayIO)
	returned := make(chan struct{})
	go func() {
		for range 3 {
			rtpRelay.WriteToUDPAddrPort(make([]byte, 172), b.LocalAddr())
		}
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(2 * time.Second): // pion retransmits for far longer than this
		t.Fatal("a write through the relay waited for a permission the server never grants")
	}
	if rtpRelay.permitted(b.LocalAddr().Addr()) {
		t.Fatal("permitted by a server that never answered")
	}

	c, d := openPair(t)
	server := startTURN(t, func(net.Addr) bool { return true })
	if _, _, err := c.UseRelay(ctx, Relay{Server: server, User: "alice", Password: "secret"}); err != nil {
		t.Fatal(err)
	}
	rtp, rtcp := c.rtpIO.(*relayIO), c.rtcpIO.(*relayIO)
	far := d.LocalAddr()
	p := Params{Remote: far, Codec: codec.PCMU, DTMFPT: -1, Send: true, Receive: true, Source: audiotest.NewTone(1000, 0.5)}
	c.Start(p)
	waitPermitted(t, rtp, rtcp, far.Addr())
	moved := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), far.Port())
	p.Remote = moved
	c.Update(p)
	waitPermitted(t, rtp, rtcp, moved.Addr())
}

// openPairBehindDeafRelay opens a pair whose first session sends through a TURN server that
// allocates but never answers CreatePermission.
func openPairBehindDeafRelay(ctx context.Context, t *testing.T) (*Session, *Session) {
	t.Helper()
	a, b := openPair(t)
	deaf := startTURNWith(t, func(net.Addr) bool { return true }, true)
	if _, _, err := a.UseRelay(ctx, Relay{Server: deaf, User: "alice", Password: "secret"}); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// waitPermitted waits until both relays hold a permission for peer.
func waitPermitted(t *testing.T, rtp, rtcp *relayIO, peer netip.Addr) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !rtp.permitted(peer) || !rtcp.permitted(peer); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no permission for %v through the relays", peer)
		}
	}
}

// startTURN runs a TURN server on 127.0.0.1 until the test ends, with user alice/secret, that
// grants allocations only to clients allow accepts.
func startTURN(t *testing.T, allow func(from net.Addr) bool) netip.AddrPort {
	return startTURNWith(t, allow, false)
}

// startTURNWith is startTURN; deaf, it never hears a CreatePermission request.
func startTURNWith(t *testing.T, allow func(from net.Addr) bool, deaf bool) netip.AddrPort {
	t.Helper()
	var pc net.PacketConn
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if deaf {
		pc = noPermissions{pc}
	}
	s, err := turn.NewServer(turn.ServerConfig{
		Realm: "dialtone.test",
		AuthHandler: func(user, realm string, from net.Addr) ([]byte, bool) {
			if user != "alice" || !allow(from) {
				return nil, false
			}
			return turn.GenerateAuthKey(user, realm, "secret"), true
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            pc,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: net.ParseIP("127.0.0.1"), Address: "127.0.0.1"},
		}},
	})
	if err != nil {
		pc.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

// goroutineStacks is every goroutine's stack, as a panic would print them.
func goroutineStacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// noPermissions is a server socket that never receives a CreatePermission request (STUN
// method 0x008, class request).
type noPermissions struct{ net.PacketConn }

func (c noPermissions) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, from, err := c.PacketConn.ReadFrom(b)
		if err != nil || n < 2 || b[0] != 0x00 || b[1] != 0x08 {
			return n, from, err
		}
	}
}

// TestRelayDropsAreNotCountedSent: packets dropped while the TURN server has not granted the
// peer's permission (here it never answers) are not counted as sent: a refused permission
// showed every statistic as media flowing while nothing left.
func TestRelayDropsAreNotCountedSent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, b := openPairBehindDeafRelay(ctx, t)
	seq := func() uint16 { // the last frame written (pacing holds frameMu)
		a.frameMu.Lock()
		defer a.frameMu.Unlock()
		return a.tx.seq
	}
	seq0 := seq()
	a.Start(Params{Remote: b.LocalAddr(), Codec: codec.PCMU, DTMFPT: -1, Send: true, Source: audiotest.NewTone(1000, 0.5)})
	deadline := time.Now().Add(5 * time.Second)
	for seq()-seq0 < 10 { // frames written, none of which can leave
		if time.Now().After(deadline) {
			t.Fatalf("%d frames tried in 5 s", seq()-seq0)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := a.Stats(); st.PacketsSent != 0 {
		t.Fatalf("%d packets counted sent through a relay with no permission for the peer", st.PacketsSent)
	}
}

// TestPermitCrossingTheCloseDoesNotWait: a permission whose request pion starts just after the
// relay's client closed (the permit goroutine passed its check as the call ended) fails at
// once. Its transaction was registered after the client had closed its transactions, so it
// retransmitted to a server nobody listened to any more for ~8 s, and the session's Close
// waited for it.
func TestPermitCrossingTheCloseDoesNotWait(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, b := openPairBehindDeafRelay(ctx, t)
	r := a.rtpIO.(*relayIO)
	r.closeClient()
	returned := make(chan error, 1)
	go func() { // what permit's goroutine does, had it started just now
		_, err := r.pc.WriteTo(stunIndication, net.UDPAddrFromAddrPort(b.LocalAddr()))
		returned <- err
	}()
	select {
	case err := <-returned:
		if err == nil {
			t.Error("a permission made after the client closed")
		}
	case <-time.After(3 * time.Second): // pion retransmits for ~8 s
		t.Fatal("a permission request after the client closed waited for the server")
	}
}
