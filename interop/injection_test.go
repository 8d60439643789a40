package interop

import (
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/wav"
	"github.com/dialtone/dialtone/codec"
	"github.com/dialtone/dialtone/interop/peers"
)

// Injection into a running call (issue 11, item 3): dialtone calls baresip on loopback, each
// plays a tone, and while the call runs the test, as an attacker who can reach dialtone's
// ports, sends
//  1. RTP of another tone from a foreign address, and RTP of a third tone forged from the far
//     end's own RTP address with a foreign SSRC, interleaved with the real stream;
//  2. BYEs and re-INVITEs with a wrong Call-ID, To-tag or From-tag;
//  3. a re-INVITE of the real dialog (right Call-ID and tags, the far end's own SDP, so no
//     media change) from another source address, its Via naming the far end with rport, then
//     one without SDP (a refresh), then replays of the dialog's requests with a lower CSeq
//     (a re-INVITE that would move the media to the forger, a BYE).
//
// Existing tests already cover RTP from a foreign address after latching behind NAT
// (TestNATLatchingOnAFarEndBehindNAT), strangers at a TURN-relayed socket
// (TestTURNRelayRefusesStrangers, in-process) and a symmetric NAT (nat_inject_test.go);
// this one adds the forged source with a foreign SSRC, the dialog checks and the
// different-source re-INVITE, all in one call whose audio is checked after.

const (
	injAliceHz   = 1300 // dialtone's tone, as baresip must hear it throughout
	injBobHz     = 700  // baresip's tone, the only one dialtone may play
	injForeignHz = injectHz
	// Not 1300-1900, 2900, 3100 or 3500 Hz: baresip's 700 Hz stream as dialtone records it
	// shows energy there (found in every 50 ms block of a call without any injection).
	injSSRCHz = 3300 // the tone forged from bob's own address under another SSRC
)

func TestInjectionIntoACallWithBaresip(t *testing.T) {
	t.Parallel()
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", AutoAnswer: true, ToneHz: injBobHz})
	tone := makeTone(t, injAliceHz, 30, 8000)
	dir := t.TempDir()
	rec, trace := filepath.Join(dir, "from-bob.wav"), filepath.Join(dir, "call.trace")
	logf := filepath.Join(dir, "call.log")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- SIP trace ---\n%s\n--- log ---\n%s\n--- baresip ---\n%s", readIfAny(trace), readIfAny(logf), bob.Log())
		}
	})
	p := startDialtone(t, nil, "call", bob.AOR(), "--json", "--play", tone, "--record", rec, "--duration", "11s",
		"--sip-trace", trace, "--log-file", logf, "--log-level", "debug")
	answered := p.waitEvent("answered", 20*time.Second)
	named, _ := codec.ByName(answered.str("codec"))
	c, ok := named.(codec.G711)
	if !ok {
		t.Fatalf("answered with codec %q, which this test cannot forge", answered.str("codec"))
	}
	d := dialogFromTrace(t, trace)
	ip, port := sdpIn(t, trace, "send")
	dialtoneRTP := netip.AddrPortFrom(netip.MustParseAddr(ip), uint16(port))
	bobRTP := farMedia(t, trace)
	time.Sleep(time.Second) // the real stream is flowing and has latched

	// 1. Foreign RTP, 2 s: a stranger's stream and a forged-source stream under another SSRC.
	stranger := listenUDP4(t)
	raw := hostRaw(t)
	foreign, forgedSSRC := newRTPStream(c, injForeignHz), newRTPStream(c, injSSRCHz)
	injected := 0
	tick := time.NewTicker(20 * time.Millisecond)
	for range 100 {
		if _, err := stranger.WriteToUDPAddrPort(foreign.next(t), dialtoneRTP); err != nil {
			t.Fatal(err)
		}
		if err := raw.send(bobRTP, dialtoneRTP, forgedSSRC.next(t)); err != nil {
			t.Fatalf("forged RTP: %v", err)
		}
		injected += 2
		<-tick.C
	}
	tick.Stop()
	t.Logf("injected %d RTP packets: %.0f Hz from %s, %.0f Hz forged from %s (SSRC %08x)", injected,
		float64(injForeignHz), stranger.LocalAddr(), float64(injSSRCHz), bobRTP, forgedSSRC.pkt.SSRC)

	// 2. Requests outside the dialog: each is 481 and changes nothing.
	attacker := listenUDP4(t)
	attackerAddr := attacker.LocalAddr().(*net.UDPAddr).AddrPort()
	via := attackerAddr.String() + ";rport"
	for _, f := range []struct {
		what string
		req  forged
	}{
		{"BYE with a wrong To-tag", forged{method: "BYE", callID: d.callID, fromTag: d.farTag, toTag: "wrong" + d.localTag, cseq: 900}},
		{"BYE with a wrong From-tag", forged{method: "BYE", callID: d.callID, fromTag: "wrong" + d.farTag, toTag: d.localTag, cseq: 901}},
		{"BYE with a wrong Call-ID", forged{method: "BYE", callID: "x" + d.callID, fromTag: d.farTag, toTag: d.localTag, cseq: 902}},
		{"re-INVITE with a wrong To-tag", forged{method: "INVITE", callID: d.callID, fromTag: d.farTag, toTag: "wrong" + d.localTag, cseq: 903, body: hijackedSDP(d.farSDP, attackerAddr)}},
		{"re-INVITE with a wrong Call-ID", forged{method: "INVITE", callID: "x" + d.callID, fromTag: d.farTag, toTag: d.localTag, cseq: 904, body: hijackedSDP(d.farSDP, attackerAddr)}},
	} {
		f.req.via = via
		res := transact(t, attacker, d.sipAddr, f.req.build(d))
		status, _, _ := strings.Cut(res, "\r\n")
		if !strings.HasPrefix(status, "SIP/2.0 481 ") {
			t.Errorf("%s: %q, want 481", f.what, status)
		}
		if f.req.method == "INVITE" {
			ack(t, attacker, d.sipAddr, d, f.req, res)
		}
		t.Logf("%s: %s", f.what, status)
	}

	// 3. The real dialog's re-INVITE from another source, no SDP change. Its Via names bob's
	// SIP address with rport: RFC 3581 sends the response to the source instead.
	hijacker := listenUDP4(t)
	hijackerAddr := hijacker.LocalAddr().(*net.UDPAddr).AddrPort()
	reinv := forged{method: "INVITE", callID: d.callID, fromTag: d.farTag, toTag: d.localTag, cseq: 1000,
		via: d.farSIP.String() + ";rport", body: d.farSDP}
	res := transact(t, hijacker, d.sipAddr, reinv.build(d)) // fails unless the response came to the source
	status, _, _ := strings.Cut(res, "\r\n")
	if !strings.HasPrefix(status, "SIP/2.0 200 ") {
		t.Errorf("re-INVITE from another source: %q, want 200", status)
	} else {
		ack(t, hijacker, d.sipAddr, d, reinv, res)
	}
	v := header(res, "Via")
	if !strings.Contains(v, "rport="+itoa(int(hijackerAddr.Port()))) || !strings.Contains(v, "received=") {
		t.Errorf("response Via %q: want received= and rport=%d (RFC 3581)", v, hijackerAddr.Port())
	}
	if !strings.Contains(bodyOf(res), "m=audio") {
		t.Errorf("200 to the re-INVITE without an SDP answer:\n%s", res)
	}
	t.Logf("re-INVITE from %s (Via %s): %s", hijackerAddr, d.farSIP, status)

	// The same without SDP (a session refresh): dialtone offers in its 200, the answer in the
	// ACK is the far end's unchanged SDP; the response goes to the source again.
	refresh := forged{method: "INVITE", callID: d.callID, fromTag: d.farTag, toTag: d.localTag, cseq: 1001,
		via: d.farSIP.String() + ";rport", ackBody: d.farSDP}
	res = transact(t, hijacker, d.sipAddr, refresh.build(d))
	status, _, _ = strings.Cut(res, "\r\n")
	if !strings.HasPrefix(status, "SIP/2.0 200 ") || !strings.Contains(bodyOf(res), "m=audio") {
		t.Errorf("re-INVITE without SDP from another source: %q, want 200 with an offer:\n%s", status, res)
	} else {
		ack(t, hijacker, d.sipAddr, d, refresh, res)
	}
	t.Logf("re-INVITE without SDP from %s: %s", hijackerAddr, status)
	reinvAt := time.Now()

	// A replay of the dialog's older requests (CSeq below the re-INVITE's): out of order,
	// 500 (RFC 3261 12.2.2), and the call goes on.
	for _, f := range []forged{
		{method: "INVITE", callID: d.callID, fromTag: d.farTag, toTag: d.localTag, cseq: 999, body: hijackedSDP(d.farSDP, hijackerAddr)},
		{method: "BYE", callID: d.callID, fromTag: d.farTag, toTag: d.localTag, cseq: 998},
	} {
		f.via = hijackerAddr.String() + ";rport"
		res := transact(t, hijacker, d.sipAddr, f.build(d))
		status, _, _ := strings.Cut(res, "\r\n")
		if !strings.HasPrefix(status, "SIP/2.0 500 ") {
			t.Errorf("%s with CSeq %d after %d: %q, want 500", f.method, f.cseq, refresh.cseq, status)
		}
		if f.method == "INVITE" {
			ack(t, hijacker, d.sipAddr, d, f, res)
		}
		t.Logf("%s with CSeq %d after %d: %s", f.method, f.cseq, refresh.cseq, status)
	}

	code, evs := p.wait(30 * time.Second)
	if code != 0 {
		t.Fatalf("call: exit %d, events %v\n%s", code, names(evs), p.transcript())
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip saw no hang-up (was the remote target moved?): %v", err)
	}
	after := time.Since(reinvAt)
	t.Logf("the call went on for %v after the re-INVITE", after.Round(100*time.Millisecond))

	// dialtone heard bob throughout, and nothing of either intruder.
	if s := toneSeconds(t, rec, injBobHz); s < 8 {
		t.Errorf("dialtone heard bob's %d Hz for %.2f s of an 11 s call", injBobHz, s)
	}
	for _, hz := range []float64{injForeignHz, injSSRCHz} {
		if s := toneSeconds(t, rec, hz); s > 0 {
			t.Errorf("injected %.0f Hz was played for %.2f s", hz, s)
		}
	}
	var final event
	for _, e := range evs {
		if e.name() == "stats" && e["final"] == true {
			final = e
		}
	}
	if final == nil {
		t.Fatalf("no final stats event: %v", names(evs))
	}
	if dr := final.num("dropped"); dr < float64(injected) {
		t.Errorf("final stats dropped %v, want at least the %d injected packets: %v", dr, injected, final)
	}
	t.Logf("final stats: dropped %v received %v sent %v", final.num("dropped"), final.num("packets_received"), final.num("packets_sent"))

	// bob heard dialtone after the re-INVITE too: the media address was not moved.
	tail := after - time.Second
	if s := tailToneSeconds(t, lastRecording(t, bob), injAliceHz, tail); s < tail.Seconds()-1 {
		t.Errorf("bob heard dialtone's %d Hz for %.2f s of the last %v (after the re-INVITE)", injAliceHz, s, tail)
	}
	// Nothing dialtone sent went to the forger's addresses after the call was set up.
	for _, m := range readTrace(t, trace) {
		if m.dir == "send" && (m.to == hijackerAddr.String() || m.to == attackerAddr.String()) && !strings.HasPrefix(m.text, "SIP/2.0 ") {
			t.Errorf("dialtone sent a request to a forger at %s:\n%s", m.to, m.text)
		}
	}
}

// hijackedSDP is the far end's SDP moved to addr (a new session version): what a forger
// would offer to take the media.
func hijackedSDP(sdp string, addr netip.AddrPort) string {
	var out []string
	for _, l := range strings.Split(sdp, "\r\n") {
		switch {
		case strings.HasPrefix(l, "o="):
			if f := strings.Fields(l); len(f) == 6 {
				v, _ := strconv.ParseUint(f[2], 10, 64)
				f[2] = strconv.FormatUint(v+1, 10)
				l = strings.Join(f, " ")
			}
		case strings.HasPrefix(l, "c=IN IP4 "):
			l = "c=IN IP4 " + addr.Addr().String()
		case strings.HasPrefix(l, "m=audio "):
			f := strings.Fields(l)
			f[1] = strconv.Itoa(int(addr.Port()))
			l = strings.Join(f, " ")
		}
		out = append(out, l)
	}
	return strings.Join(out, "\r\n")
}

// tailToneSeconds is toneSeconds over the last d of a recording (less its final 0.5 s,
// where the hang-up cuts the tone).
func tailToneSeconds(t *testing.T, path string, hz float64, d time.Duration) float64 {
	t.Helper()
	samples, rate, err := wav.ReadAll(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	end := len(samples) - rate/2
	start := max(end-int(d.Seconds()*float64(rate)), 0)
	if end <= start {
		t.Fatalf("%s holds %d samples, too few for its last %v", path, len(samples), d)
	}
	s := blockSeconds(samples[start:end], rate, hz)
	t.Logf("%s: %.0f Hz in %.2f s of its last %v", filepath.Base(path), hz, s, d)
	return s
}
