package interop

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestAnswerStopsWhenCallAudioCannotOpen: `answer --record` into a directory that does not
// exist. The first caller (baresip) is turned away with 480 and answer exits 2 at once, naming
// the file, instead of waiting for --count callers it can never take.
func TestAnswerStopsWhenCallAudioCannotOpen(t *testing.T) {
	t.Parallel()
	a := peers.StartBaresip(t, peers.BaresipOptions{User: "a", ToneHz: 700})
	rec := t.TempDir() + "/no-such-dir/rec.wav"
	d := startDialtone(t, nil, "answer", "--auto", "--count", "3", "--json", "--listen", "127.0.0.1:0", "--audio", "null", "--record", rec)
	addr := d.waitEvent("listening", 15*time.Second).str("addr")
	if err := a.Dial("sip:dialtone@" + addr); err != nil {
		t.Fatal(err)
	}
	code, _ := d.wait(15 * time.Second)
	if code != 2 || !strings.Contains(d.transcript(), "no-such-dir") {
		t.Fatalf("answer exit %d, want 2 naming the recording's directory\n%s", code, d.transcript())
	}
	if _, err := a.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip's call was not turned away: %v\n%s", err, a.Log())
	}
}

// TestAnswerInterruptedWhileRinging: `answer --auto=30s` lets baresip's call ring; SIGINT
// then ends it (486 by us) and answer exits 0, as a signal does: a call we hang up on the way
// out is not a failure (it exited 12).
func TestAnswerInterruptedWhileRinging(t *testing.T) {
	t.Parallel()
	a := peers.StartBaresip(t, peers.BaresipOptions{User: "a", ToneHz: 700})
	d := startDialtone(t, nil, "answer", "--auto=30s", "--count", "1", "--json", "--listen", "127.0.0.1:0", "--audio", "null")
	addr := d.waitEvent("listening", 15*time.Second).str("addr")
	if err := a.Dial("sip:dialtone@" + addr); err != nil {
		t.Fatal(err)
	}
	d.waitEvent("incoming", 10*time.Second)
	d.signal(syscall.SIGINT)
	code, evs := d.wait(15 * time.Second)
	if code != 0 {
		t.Fatalf("answer exit %d after SIGINT, want 0\n%s", code, d.transcript())
	}
	if h, ok := findEvent(evs, "hangup"); !ok || h.str("by") != "local" {
		t.Errorf("hangup %v (found %v), want the ringing call ended by us", h, ok)
	}
	if _, err := a.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip's call did not end: %v\n%s", err, a.Log())
	}
}
