package phone

import (
	"testing"
	"time"
)

// TestBlindTransferorHangsUpAtOnce: T transfers E to G and hangs up as soon as the REFER is
// accepted, as many phones do in a blind transfer (RFC 5589 6), long before G answers. E
// announces the new call as the old one's successor before the old one's end, so a front end
// that follows the call moves to it (and keeps its audio) instead of stopping there; the new
// call is then answered and up. CallReplaced came only at the answer, after the old call's
// end: `dialtone call` had exited, and the TUI had closed the audio the new call used. T hears
// the outcome all the same, in E's final NOTIFY after the BYE.
func TestBlindTransferorHangsUpAtOnce(t *testing.T) {
	tp, tAddr, tEv := runPhone(t, Config{})
	ep, _, eEv := runPhone(t, Config{})
	gp, gAddr, gEv := runPhone(t, Config{})
	e1, t1 := callThenTransfer(t, ep, eEv, tp, tEv, tAddr, "sip:g@"+gAddr)
	in := waitCall(t, gEv, "", CallIncoming) // E is calling G: the transfer was accepted
	if err := tp.Hangup(t1); err != nil {
		t.Fatal(err)
	}
	// E's events, in order, until the new call is answered.
	var replacedAt, oldEndAt, n int
	newID := ""
	answered := false
	deadline := time.After(20 * time.Second)
	for !answered {
		select {
		case ev := <-eEv:
			n++
			switch ev := ev.(type) {
			case CallReplaced:
				if ev.CallID == e1 {
					replacedAt, newID = n, ev.NewCallID
				}
			case CallStatus:
				if ev.ID == e1 && ev.State == CallEnded {
					oldEndAt = n
					if err := gp.Answer(in.ID, CallAudio{}); err != nil { // G answers only now
						t.Fatal(err)
					}
				}
				if newID != "" && ev.ID == newID && ev.State == CallAnswered {
					answered = true
				}
			}
		case <-deadline:
			t.Fatalf("E: replaced at event %d (new call %q), old call ended at %d; the new call was never answered", replacedAt, newID, oldEndAt)
		}
	}
	if replacedAt == 0 || oldEndAt == 0 || replacedAt > oldEndAt {
		t.Fatalf("E announced the new call at event %d and ended the old one at %d: want the announcement first", replacedAt, oldEndAt)
	}
	replaced := 0
	for _, c := range ep.Calls() {
		if c.ID == newID && c.State != CallAnswered {
			t.Errorf("the new call is %v, want answered", c.State)
		}
	}
	for quiet := time.After(500 * time.Millisecond); ; { // no second announcement at the answer
		var ev Event
		select {
		case ev = <-eEv:
		case <-quiet:
		}
		if ev == nil {
			break
		}
		if r, ok := ev.(CallReplaced); ok && r.CallID == e1 {
			replaced++
		}
	}
	if replaced != 0 {
		t.Error("the new call was announced again at its answer")
	}
	// T hung up long before, yet learns the outcome: E's final NOTIFY goes in the dialog as
	// it was (RFC 5057 §5.2: the BYE ended the call, not the subscription), and T, which
	// awaits it for finalNotifyGrace after its call's end, reports it.
	if fin := transferOutcome(t, tEv, t1); fin.Code != 200 {
		t.Errorf("T's transfer ended %d %s, want 200", fin.Code, fin.Reason)
	}
	if err := ep.Hangup(newID); err != nil {
		t.Fatal(err)
	}
	waitCall(t, gEv, in.ID, CallEnded)
}

// TestBlindTransferorHangsUpOnThe202: T hangs up the moment its REFER is accepted, before E
// has placed the new call. E's old call ends while the new one is being placed; the new one
// is still announced as its successor before that end. Filed only once E had placed it, it
// was missed about one time in ten, and the old behaviour came back.
func TestBlindTransferorHangsUpOnThe202(t *testing.T) {
	tp, tAddr, tEv := runPhone(t, Config{})
	ep, _, eEv := runPhone(t, Config{})
	gp, gAddr, gEv := runPhone(t, Config{})
	for round := range 5 {
		e1, t1 := callThenTransfer(t, ep, eEv, tp, tEv, tAddr, "sip:g@"+gAddr)
		if err := tp.Hangup(t1); err != nil {
			t.Fatal(err)
		}
		newID, replacedFirst := "", false
		waitEvent(t, eEv, "the old call's end", func(ev Event) bool {
			switch ev := ev.(type) {
			case CallReplaced:
				if ev.CallID == e1 {
					newID = ev.NewCallID
				}
			case CallStatus:
				if ev.ID == e1 && ev.State == CallEnded {
					replacedFirst = newID != ""
					return true
				}
			}
			return false
		})
		if !replacedFirst {
			t.Fatalf("round %d: the old call ended before its successor was announced", round)
		}
		in := waitCall(t, gEv, "", CallIncoming) // G answers only now: the new call was still being placed
		if err := gp.Answer(in.ID, CallAudio{}); err != nil {
			t.Fatal(err)
		}
		waitCall(t, eEv, newID, CallAnswered)
		if err := ep.Hangup(newID); err != nil {
			t.Fatal(err)
		}
		waitCall(t, eEv, newID, CallEnded)
		waitCall(t, gEv, in.ID, CallEnded)
	}
}

// callThenTransfer has E call T and T answer, then T transfer the call to target (blind); it
// returns E's and T's call ids once T's REFER is accepted.
func callThenTransfer(t *testing.T, ep *Phone, eEv <-chan Event, tp *Phone, tEv <-chan Event, tAddr, target string) (e1, t1 string) {
	t.Helper()
	e1, err := ep.Dial("", "sip:t@"+tAddr, CallAudio{}, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t1 = answerNext(t, tp, tEv, CallAudio{})
	waitCall(t, eEv, e1, CallAnswered)
	if err := tp.Transfer(t1, target); err != nil {
		t.Fatal(err)
	}
	return e1, t1
}

// TestTransferorHearsAnOutcomeLongAfterItsCall: T transfers E to G and hangs up at once, and G
// answers only after finalNotifyGrace has passed. T still reports the outcome: a transfer whose
// call has ended waits for its final NOTIFY as long as it would have with the call up
// (notifyTimeout after the REFER). It gave up finalNotifyGrace after the call's end, so a
// target that rang longer than that left T without the outcome (481 to E's NOTIFY).
func TestTransferorHearsAnOutcomeLongAfterItsCall(t *testing.T) {
	old := finalNotifyGrace
	finalNotifyGrace = 500 * time.Millisecond // set before the phones start: they read it
	t.Cleanup(func() { finalNotifyGrace = old })
	tp, tAddr, tEv := runPhone(t, Config{})
	ep, _, eEv := runPhone(t, Config{})
	gp, gAddr, gEv := runPhone(t, Config{})
	_, t1 := callThenTransfer(t, ep, eEv, tp, tEv, tAddr, "sip:g@"+gAddr)
	in := waitCall(t, gEv, "", CallIncoming)
	if err := tp.Hangup(t1); err != nil {
		t.Fatal(err)
	}
	waitCall(t, tEv, t1, CallEnded)
	time.Sleep(3 * finalNotifyGrace) // G rings on past T's grace
	if err := gp.Answer(in.ID, CallAudio{}); err != nil {
		t.Fatal(err)
	}
	if fin := transferOutcome(t, tEv, t1); fin.Code != 200 {
		t.Errorf("T's transfer ended %d %s, want 200", fin.Code, fin.Reason)
	}
	if err := gp.Hangup(in.ID); err != nil {
		t.Fatal(err)
	}
	waitCall(t, gEv, in.ID, CallEnded)
}
