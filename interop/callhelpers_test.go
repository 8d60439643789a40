package interop

import (
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// baresipCallsAnswerer has baresip call aor, where a `dialtone answer --auto --count 1` waits:
// the call is answered, lasts 3 s, baresip hangs up and dialtone exits 0. What was heard on
// each side is for the caller to check.
func baresipCallsAnswerer(t *testing.T, bob *peers.Baresip, dialtone *proc, aor string) {
	t.Helper()
	if err := bob.Dial(aor); err != nil {
		t.Fatal(err)
	}
	dialtone.waitEvent("incoming", 15*time.Second)
	dialtone.waitEvent("answered", 10*time.Second)
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("baresip: %v\n%s", err, bob.Log())
	}
	time.Sleep(3 * time.Second) // the call itself: audio flows meanwhile
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	if code, _ := dialtone.wait(20 * time.Second); code != 0 {
		t.Fatalf("answer exit %d\n%s", code, dialtone.transcript())
	}
}
