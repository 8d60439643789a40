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

// TestRelayPermitsBeforeThePacerSends: pion creates a TURN permission inside the first
// WriteTo to a new peer address and waits for the server's answer there; Start and Update make
// it (with a keep-alive) on the caller's goroutine, so that wait never falls on the shared
// pacer, whose worker sends for other calls too. Both relays have the far end's address
// permitted when Start returns, and a far end that moves (re-INVITE) when Update does.
func TestRelayPermitsBeforeThePacerSends(t *testing.T) {
	a, b := openPair(t)
	server := startTURN(t, func(net.Addr) bool { return true })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := a.UseRelay(ctx, Relay{Server: server, User: "alice", Password: "secret"}); err != nil {
		t.Fatal(err)
	}
	rtpRelay, rtcpRelay := a.rtpIO.(*relayIO), a.rtcpIO.(*relayIO)
	far := b.LocalAddr()
	if rtpRelay.permitted(far.Addr()) {
		t.Fatal("permitted before Start")
	}
	p := Params{Remote: far, Codec: codec.PCMU, DTMFPT: -1, Send: true, Receive: true, Source: audiotest.NewTone(1000, 0.5)}
	a.Start(p)
	if !rtpRelay.permitted(far.Addr()) || !rtcpRelay.permitted(far.Addr()) {
		t.Fatalf("Start returned without the relays' permissions for %v", far)
	}
	moved := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), far.Port())
	p.Remote = moved
	a.Update(p)
	if !rtpRelay.permitted(moved.Addr()) || !rtcpRelay.permitted(moved.Addr()) {
		t.Fatalf("Update returned without the relays' permissions for %v", moved)
	}
}

// startTURN runs a TURN server on 127.0.0.1 until the test ends, with user alice/secret, that
// grants allocations only to clients allow accepts.
func startTURN(t *testing.T, allow func(from net.Addr) bool) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
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
