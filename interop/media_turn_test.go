package interop

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/codec"
	"github.com/dialtone/dialtone/interop/peers"
	"github.com/dialtone/dialtone/phone/media"
)

// TestMediaThroughCoturnRelay: one media session relays its RTP and RTCP through a real TURN
// server (coturn, long-term credentials) and the other talks to the relayed address, as a far
// end does with our SDP behind a symmetric NAT. Tones are found both ways, and the relay's
// addresses are coturn's, not ours.
func TestMediaThroughCoturnRelay(t *testing.T) {
	turnSrv := peers.StartCoturn(t, peers.CoturnOptions{})
	server := netip.MustParseAddrPort(turnSrv.Addr(0))
	lo := netip.MustParseAddr("127.0.0.1")
	a, err := media.Open(media.Config{IP: lo})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := media.Open(media.Config{IP: lo})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mapped, _, err := a.Discover(ctx, server)
	if err != nil || mapped != a.LocalAddr() {
		t.Fatalf("STUN from the RTP socket: %v, %v (want our own address %v on loopback)", mapped, err, a.LocalAddr())
	}
	if _, _, err := a.UseRelay(ctx, media.Relay{Server: server, User: turnSrv.User(), Password: "wrong"}); err == nil {
		t.Fatal("a wrong TURN password was accepted")
	}
	relayRTP, relayRTCP, err := a.UseRelay(ctx, media.Relay{Server: server, User: turnSrv.User(), Password: turnSrv.Password()})
	if err != nil {
		t.Fatalf("TURN allocation: %v\n%s", err, turnSrv.Log())
	}
	if relayRTP == a.LocalAddr() || relayRTP.Port() == relayRTCP.Port() {
		t.Fatalf("relayed addresses %v / %v look like ours (%v)", relayRTP, relayRTCP, a.LocalAddr())
	}
	recA, recB := audiotest.NewRecorder(), audiotest.NewRecorder()
	a.Start(media.Params{Remote: b.LocalAddr(), Codec: codec.PCMU, DTMFPT: -1, Send: true, Receive: true,
		Source: audiotest.NewTone(1000, 0.5), Sink: recA})
	b.Start(media.Params{Remote: relayRTP, RemoteRTCP: relayRTCP, Codec: codec.PCMU, DTMFPT: -1, Send: true, Receive: true,
		Source: audiotest.NewTone(1500, 0.5), Sink: recB, StrictSource: true})
	time.Sleep(2 * time.Second) // real time: audio crosses a real relay
	for _, x := range []struct {
		name string
		rec  *audiotest.Recorder
		hz   float64
	}{{"relay -> us", recA, 1500}, {"us -> relay -> far end", recB, 1000}} {
		s := x.rec.Samples()
		if len(s) < 8000 {
			t.Fatalf("%s: only %d samples", x.name, len(s))
		}
		if found, lvl, snr := audiotest.DetectTone(s[len(s)/2:], 8000, x.hz); !found || lvl < -12 {
			t.Fatalf("%s: no %v Hz tone (%.1f dBFS, snr %.1f)", x.name, x.hz, lvl, snr)
		}
	}
	// b accepts only the relayed address (StrictSource): every packet it played came through coturn.
	if st := b.Stats(); st.PacketsReceived < 50 {
		t.Fatalf("far end stats %+v", st)
	}
}
