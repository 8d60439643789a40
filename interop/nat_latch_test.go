package interop

import (
	"context"
	"math"
	"math/rand/v2"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/dialtone/dialtone/codec"
	"github.com/dialtone/dialtone/interop/netlab"
	"github.com/dialtone/dialtone/interop/peers"
)

// TestNATLatchingOnAFarEndBehindNAT: dialtone on the public side calls a baresip behind a
// cone NAT that writes its private address into its SDP answer. Dialtone's RTP to that
// address is lost; it latches on to where bob's RTP really comes from (the NAT) and audio
// flows both ways. Once latched, RTP injected from a third public address with the right
// payload type is dropped: its tone is not in the recording.
func TestNATLatchingOnAFarEndBehindNAT(t *testing.T) {
	t.Parallel()
	start := time.Now()
	n := newNATNet(t, netlab.Cone, 0) // the kernel's 30 s: bob's registration must stay reachable
	bob := peers.StartBaresip(t, peers.BaresipOptions{Host: n.home, IP: "192.0.2.10", User: "bob", Password: natUsers["bob"],
		Registrar: n.kam.HostPort("udp"), AutoAnswer: true, ToneHz: 700})
	tone := makeTone(t, 1300, 20, 8000)
	rec := filepath.Join(t.TempDir(), "from-bob.wav")
	args := append([]string{"call", bob.AOR(), "--json", "--play", tone, "--record", rec, "--duration", "5s"}, n.account("alice")...)
	p := startDialtoneOn(t, n.far, natPW("alice"), append(args, traceFlags(t, "call")...)...)
	answered := p.waitEvent("answered", 20*time.Second)

	// dialtone's RTP port, from its offer as bob received it.
	m := regexp.MustCompile(`(?s)c=IN IP4 203\.0\.113\.20.{0,120}?m=audio (\d+) `).FindStringSubmatch(bob.Log())
	if m == nil {
		t.Fatalf("no SDP offer from dialtone in baresip's log:\n%s", bob.Log())
	}
	time.Sleep(time.Second) // latched by now: bob sends from the first moment
	c := codec.PCMU
	if strings.EqualFold(answered.str("codec"), "PCMA") {
		c = codec.PCMA
	}
	injected := injectRTP(t, n.srv, "203.0.113.20:"+m[1], c, 400, 1500*time.Millisecond)

	code, evs := p.wait(30 * time.Second)
	if code != 0 {
		t.Fatalf("call: exit %d, events %v\n%s\nbaresip:\n%s", code, names(evs), p.transcript(), bob.Log())
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip saw no hangup: %v", err)
	}
	if !strings.Contains(bob.Log(), "c=IN IP4 192.0.2.10") {
		t.Fatalf("baresip did not advertise its private address; the test proves nothing:\n%s", bob.Log())
	}
	if w, ok := findEvent(evs, "media_warning"); ok {
		t.Errorf("media warning although audio flowed: %v", w)
	}
	assertToneFor(t, "dialtone heard bob (latched)", rec, 700)
	if s := toneSeconds(t, rec, 400); s > 0.1 {
		t.Errorf("%.2f s of the injected 400 Hz tone were played after latching", s)
	}
	var final event
	for _, e := range evs {
		if e.name() == "stats" && e["final"] == true {
			final = e
		}
	}
	if final == nil || final.num("dropped") < float64(injected)*0.9 {
		t.Errorf("final stats %v: want the %d injected packets counted as dropped", final, injected)
	}
	assertBaresipHeard(t, bob, 1300, 1)
	t.Logf("wall time %v", time.Since(start).Round(100*time.Millisecond))
}

// injectRTP sends a tone at hz as RTP (payload type of c, 20 ms packets) from h to dst for d
// and returns the number of packets sent.
func injectRTP(t *testing.T, h *netlab.Host, dst string, c codec.G711, hz float64, d time.Duration) int {
	t.Helper()
	conn, err := h.Dial(context.Background(), "udp", dst)
	if err != nil {
		t.Fatalf("injector: %v", err)
	}
	defer conn.Close()
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: c.PayloadType(), SSRC: rand.Uint32(),
		SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()}}
	pcm := make([]int16, codec.FrameSamples)
	payload := make([]byte, c.EncodedLen(len(pcm)))
	buf := make([]byte, 1500)
	sent := 0
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; time.Duration(i)*20*time.Millisecond < d; i++ {
		for k := range pcm {
			pcm[k] = int16(16000 * math.Sin(2*math.Pi*hz*float64(i*len(pcm)+k)/float64(c.ClockRate())))
		}
		pkt.Payload = payload[:c.EncodeTo(payload, pcm)]
		nb, err := pkt.MarshalTo(buf)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write(buf[:nb]); err == nil {
			sent++
		} else if _, refused := err.(*net.OpError); !refused {
			t.Fatalf("injector: %v", err)
		}
		pkt.SequenceNumber++
		pkt.Timestamp += uint32(len(pcm))
		<-tick.C
	}
	t.Logf("injected %d RTP packets of %v Hz into %s from %s", sent, hz, dst, h.IP())
	return sent
}
