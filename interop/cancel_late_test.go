package interop

import (
	"syscall"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestHangupBeforeRingingCancelsOnceItRings: Ctrl-C on `dialtone call` before the callee has
// answered anything (sipp waits 1.5 s before its 180) ends the call for the user at once, and
// the 180 that comes afterwards still gets its CANCEL (RFC 3261 9.1 forbids one before a
// provisional response). Before, the INVITE was forgotten: sipp waited for a CANCEL that
// never came and the callee would have rung on until its own timeout.
func TestHangupBeforeRingingCancelsOnceItRings(t *testing.T) {
	t.Parallel()
	s := peers.StartSippUAS(t, peers.SippOptions{Scenario: "testdata/sipp_uas_ring_late.xml"})
	p := startDialtone(t, nil, "call", s.URI("bob"), "--json", "--audio", "null", "--ring-timeout", "20s")
	deadline := time.Now().Add(10 * time.Second)
	for len(s.Received("INVITE")) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("sipp never received the INVITE\n%s", p.transcript())
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	p.signal(syscall.SIGINT)
	code, rest := p.wait(15 * time.Second)
	if h, ok := findEvent(rest, "hangup"); !ok || h.str("by") != "local" {
		t.Fatalf("hangup %v, want by local\n%s", h, p.transcript())
	}
	t.Logf("dialtone exited %d after %v", code, time.Since(start).Round(10*time.Millisecond))
	if code != 11 {
		t.Errorf("exit %d, want 11 (the call was not answered)", code)
	}
	if sc, err := s.Wait(10 * time.Second); err != nil || sc != 0 {
		t.Fatalf("sipp exit %d (%v): the late 180 got no CANCEL\n%s", sc, err, s.Messages())
	}
	if n := len(s.Received("CANCEL")); n != 1 {
		t.Fatalf("sipp received %d CANCELs, want 1", n)
	}
}

// TestRingTimeoutWithout487: the ring timeout CANCELs a ringing call whose callee answers the
// CANCEL with 200 and never sends the 487 (sipp, as some gateways and SBCs do). `dialtone
// call` reports the ring timeout and exits within seconds. Before, sipgo waited for the 487
// until Timer B: the call rang on for the user 32 s after the ring timeout.
func TestRingTimeoutWithout487(t *testing.T) {
	t.Parallel()
	s := peers.StartSippUAS(t, peers.SippOptions{Scenario: "testdata/sipp_uas_cancel_no_487.xml"})
	p := startDialtone(t, nil, "call", s.URI("bob"), "--json", "--audio", "null", "--ring-timeout", "1s")
	// 1 s of ringing, up to 2 s for the 487 that never comes and 2 s more for the INVITE at
	// exit (cancelGrace, abandonedGrace): well under Timer B's 32 s.
	code, rest := p.wait(15 * time.Second)
	h, ok := findEvent(rest, "hangup")
	if !ok || h.str("reason") != "ring timeout" || h.str("failure") != "no_answer" {
		t.Fatalf("hangup %v, want the ring timeout\n%s", h, p.transcript())
	}
	if code != 11 {
		t.Errorf("exit %d, want 11 (the call was not answered)", code)
	}
	if sc, err := s.Wait(10 * time.Second); err != nil || sc != 0 {
		t.Fatalf("sipp exit %d (%v): it got no CANCEL\n%s", sc, err, s.Messages())
	}
}
