package interop

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// floodPeakRSSLimit bounds dialtone's peak RSS through the INVITE flood. Measured on the
// 2-core CI machine: ~25 MiB idle with one call, ~100 MiB at the peak of 10 000 INVITEs at
// 1000/s (each refused INVITE's server transaction, request and goroutine live until Timer I,
// 5 s after the ACK, so about 5 000 are alive at once, and Go's heap target doubles the live
// heap). 256 MiB leaves 2.5x for a slower machine where transactions pile up longer; a leak
// (state kept per INVITE for good) would pass it within the 10 000.
const floodPeakRSSLimit = 256 << 10 // KiB

// TestInviteFlood (issue 11, item 2): dialtone answer, registered at Kamailio with a 4 s
// expiry (a refresh every 2 s), takes a call from baresip (a tone each way) and, with the
// call going on, sipp sends 10 000 INVITEs at 1000/s straight to its SIP port. dialtone
// answer --max-calls 3 may take two of them (held by sipp until after the flood) and must turn
// every other away with 486 (or 503 when overloaded); it must not crash, its memory must stay
// bounded, the established call must keep its audio both ways through the flood (checked as
// audio), and the registration refreshes during the flood must succeed.
func TestInviteFlood(t *testing.T) {
	t.Parallel()
	const (
		rate, calls     = 1000, 10000
		maxCalls        = 3
		expires         = 4
		hz, bobHz       = 1300, 700
		hold            = 12 * time.Second // past the flood's 10 s: the two it took stay up
		floodAudioShare = 0.85             // of the flood window that must hold the tone
	)
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	tone := makeTone(t, hz, 60, 8000)
	rec := filepath.Join(t.TempDir(), "from-bob.wav")
	alice := startDialtone(t, pw("alice"), append([]string{"answer", "--auto", "--json", "--count", "100",
		"--max-calls", itoa(maxCalls), "--expires", itoa(expires), "--play", tone, "--record", rec},
		adhoc(k, "udp", "alice")...)...)
	reg := alice.waitEvent("registered", 20*time.Second)
	sipAddr := contactHostPort(t, reg.str("contact"))
	mon := sampleProc(t, alice.cmd.Process.Pid, 100*time.Millisecond)

	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), ToneHz: bobHz})
	if err := bob.Dial("sip:alice@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	callID := alice.waitEvent("answered", 15*time.Second).str("call_id")
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("baresip: %v\n%s", err, bob.Log())
	}
	time.Sleep(2 * time.Second) // the call settles before the flood: audio flows meanwhile
	before := mon.last()

	floodStart := time.Now()
	f := startInviteFlood(t, sipAddr, rate, calls, hold)
	var refreshes, regFailures []event
	for done := false; !done; {
		select {
		case e, ok := <-alice.events:
			if !ok {
				t.Fatalf("dialtone exited during the flood\n%s\nsipp:\n%s", alice.transcript(), f.console())
			}
			switch e.name() {
			case "registered":
				refreshes = append(refreshes, e)
			case "registration_failed":
				regFailures = append(regFailures, e)
			case "hangup":
				if e.str("call_id") == callID {
					t.Fatalf("the established call ended during the flood: %v", e)
				}
			}
		case <-f.done:
			done = true
		case <-time.After(45 * time.Second):
			t.Fatalf("sipp still running 45 s into the flood\n%s", f.console())
		}
	}
	floodEnd := time.Now()
	c := f.counts(t, calls)
	floodPeak := mon.peak()

	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	for {
		h := alice.waitEvent("hangup", 10*time.Second)
		if h.str("call_id") == callID {
			if h.str("by") != "remote" || h.str("failure") != "" {
				t.Errorf("the established call's hangup %v: want by remote, no failure", h)
			}
			break
		}
	}
	bs, err := k.Bindings("sip:alice@127.0.0.1")
	if err != nil {
		t.Fatalf("kamailio location: %v", err)
	}
	alice.signal(sigterm)
	code, _ := alice.wait(20 * time.Second)
	mon.halt()

	// What was sent and what came back.
	t.Logf("flood: %d INVITEs (%d retransmissions) in %.2f s = %.0f/s achieved (asked %d/s); per second %v",
		c.Sent, c.Retrans, c.SendSeconds, c.SendRate, rate, c.PerSecond)
	t.Logf("answers: 486 %d, 503 %d, 200 %d; sipp timeouts %d, unexpected %d; calls completed %d, failed %d",
		c.Busy, c.Overload, c.OK, c.Timeouts, c.Unexpected, c.Completed, c.FailedCalls)
	t.Logf("dialtone: RSS %s before, peak %s (VmHWM), %s after; threads %d before, %d at the peak; CPU %.1f s over the %.1f s flood",
		mib(before.RSS), mib(floodPeak.HWM), mib(mon.last().RSS), before.Threads, floodPeak.Threads,
		(mon.last().CPU - before.CPU).Seconds(), floodEnd.Sub(floodStart).Seconds())
	t.Logf("registration: %d refreshes answered 200 during the flood, %d failures; Kamailio binding %v", len(refreshes), len(regFailures), bs)
	if c.SendRate < 0.8*rate {
		t.Logf("NOTE: sipp achieved %.0f INVITEs/s, under the %d/s asked: the machine is loaded", c.SendRate, rate)
	}

	if code != 0 {
		t.Errorf("answer exit %d after SIGTERM\n%s", code, alice.transcript())
	}
	if c.Sent != calls {
		t.Fatalf("sipp sent %d INVITEs, want %d\n%s", c.Sent, calls, f.console())
	}
	if got := c.Busy + c.Overload + c.OK; got != calls || c.Timeouts != 0 || c.Unexpected != 0 {
		t.Errorf("final responses: %d of %d INVITEs (486 %d, 503 %d, 200 %d; %d timeouts, %d unexpected): every INVITE must be answered\n%s",
			got, calls, c.Busy, c.Overload, c.OK, c.Timeouts, c.Unexpected, f.console())
	}
	if c.OK > maxCalls-1 {
		t.Errorf("%d flood calls answered 200 beside the established call; --max-calls %d allows %d", c.OK, maxCalls, maxCalls-1)
	}
	if floodPeak.HWM == 0 || floodPeak.HWM > floodPeakRSSLimit {
		t.Errorf("peak RSS %s, want under %s", mib(floodPeak.HWM), mib(floodPeakRSSLimit))
	}
	if len(regFailures) > 0 {
		t.Errorf("registration failed during the flood: %v", regFailures)
	}
	// One refresh every expires/2 s: at least all but one of those due while sipp ran.
	if due := int(floodEnd.Sub(floodStart).Seconds()) / (expires / 2); len(refreshes) < due-1 {
		t.Errorf("%d REGISTER refreshes answered during the %.1f s flood, want at least %d", len(refreshes), floodEnd.Sub(floodStart).Seconds(), due-1)
	}
	if len(bs) != 1 || bs[0].Expires <= 0 {
		t.Errorf("Kamailio's location table after the flood: %v, want alice's one live binding", bs)
	}

	// The established call's audio, over the flood: the recordings' last stretch, from the
	// flood's start to the hang-up.
	window := time.Since(floodStart) - time.Second
	if s := tailToneSeconds(t, rec, bobHz, window); s < floodAudioShare*window.Seconds() {
		t.Errorf("dialtone heard %d Hz for %.2f s of the %.1f s flood window", bobHz, s, window.Seconds())
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip: %v", err)
	}
	recs, err := bob.Recordings()
	if err != nil || len(recs) == 0 {
		t.Fatalf("baresip recorded nothing: %v", err)
	}
	if s := tailToneSeconds(t, recs[len(recs)-1], hz, window); s < floodAudioShare*window.Seconds() {
		t.Errorf("baresip heard %d Hz for %.2f s of the %.1f s flood window", hz, s, window.Seconds())
	}
}
