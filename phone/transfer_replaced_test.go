package phone

import (
	"context"
	"testing"
	"time"

	lifecycle "github.com/dialtone/dialtone/phone/call"
)

// TestNoReplacementByAnEndedCall: a transfer's new call that the far end hung up before the
// transfer learnt of its answer must not be announced as the old call's successor: a front
// end that followed the old call to it would wait for an end it had already passed.
func TestNoReplacementByAnEndedCall(t *testing.T) {
	p, _, events := runPhone(t, Config{KeepAlive: -1})
	old := newCall("c-old", nil, Outgoing)
	live := newCall("c-live", nil, Outgoing)
	gone := newCall("c-gone", nil, Outgoing)
	for _, c := range []*call{old, live, gone} {
		if p.addCall(c, nil) != nil {
			t.Fatalf("call %s not added", c.id)
		}
		t.Cleanup(func() { p.removeCall(c) }) // the phone's end waits for its calls
	}
	gone.advance(lifecycle.Shutdown{})
	if !gone.ended() {
		t.Fatal("the call did not end: the test proves nothing")
	}
	if p.publishReplaced(old, gone.id) {
		t.Error("an ended call was announced as the old call's successor")
	}
	if p.publishReplaced(old, "c-never") {
		t.Error("an unknown call was announced as the old call's successor")
	}
	if !p.publishReplaced(old, live.id) {
		t.Fatal("a live call was not announced")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		select {
		case ev := <-events:
			if r, ok := ev.(CallReplaced); ok {
				if r.NewCallID != live.id || r.CallID != old.id {
					t.Fatalf("replaced %+v, want %s by %s only", r, old.id, live.id)
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("no CallReplaced for the live call")
		}
	}
}
