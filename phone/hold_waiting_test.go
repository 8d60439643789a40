package phone

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCallWaiting: while a talks with b, c calls a: the second call rings (an incoming
// event); answering it puts the first on hold; hanging the second up leaves the first on hold,
// and it resumes.
func TestCallWaiting(t *testing.T) {
	a, aAddr, aEv := runPhone(t, Config{})
	b, _, bEv := runPhone(t, Config{})
	c, _, cEv := runPhone(t, Config{})
	bID, first := talkingPair(t, b, a, aAddr, bEv, aEv)
	cID, err := c.Dial("", "sip:a@"+aAddr, CallAudio{}, DialOptions{RingTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	second := waitCall(t, aEv, "", CallIncoming).ID
	if second == first {
		t.Fatalf("the waiting call has the first call's id %s", first)
	}
	if err := a.Answer(second, CallAudio{}); err != nil {
		t.Fatal(err)
	}
	waitHold(t, aEv, first, true, "local")
	waitHold(t, bEv, bID, true, "remote")
	waitCall(t, cEv, cID, CallAnswered)
	if s := statusBecomes(t, a, second, CallAnswered); s.State != CallAnswered {
		t.Fatalf("second call %v, want answered", s.State)
	}
	flowing(t, a, second, true, "the answered second call")
	flowing(t, a, first, false, "the first call, on hold")

	if err := a.Hangup(second); err != nil {
		t.Fatal(err)
	}
	waitCall(t, cEv, cID, CallEnded)
	if s := status(t, a, first); s.State != CallHolding {
		t.Fatalf("first call after the second ended: %v, want holding", s.State)
	}
	if err := a.Resume(first); err != nil {
		t.Fatal(err)
	}
	waitHold(t, aEv, first, false, "local")
	flowing(t, a, first, true, "the first call, resumed")
}

// callLog keeps what the phone records in its history.
type callLog struct {
	mu    sync.Mutex
	calls []CallStatus
}

func (l *callLog) SaveCall(_ context.Context, s CallStatus) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, s)
	return nil
}

func (l *callLog) last() (CallStatus, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.calls) == 0 {
		return CallStatus{}, 0
	}
	return l.calls[len(l.calls)-1], len(l.calls)
}

// TestDND: with do-not-disturb on, a call is answered 486 at once (603 when asked), never
// rings, and is recorded as rejected; DND shows in the snapshot and as an event; off again,
// calls ring.
func TestDND(t *testing.T) {
	history := &callLog{}
	a, aAddr, aEv := runPhone(t, Config{Calls: history})
	b, _, bEv := runPhone(t, Config{})
	if on, code := a.DND(); on || code != 486 {
		t.Fatalf("DND at start: %v %d", on, code)
	}
	for _, code := range []int{0, 603} {
		a.SetDND(true, code)
		want := code
		if want == 0 {
			want = 486
		}
		if s := a.Snapshot(); !s.DND || s.DNDCode != want {
			t.Fatalf("snapshot DND %v %d, want on %d", s.DND, s.DNDCode, want)
		}
		id, err := b.Dial("", "sip:a@"+aAddr, CallAudio{}, DialOptions{RingTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		end := waitCall(t, bEv, id, CallEnded)
		if end.Code != want {
			t.Fatalf("caller's call ended %d %q, want %d", end.Code, end.Reason, want)
		}
		// a published no incoming call, only its end, and recorded it.
		var ended CallStatus
		sawDND := false
		deadline := time.After(5 * time.Second)
	wait:
		for {
			select {
			case ev := <-aEv:
				switch ev := ev.(type) {
				case DNDChanged:
					sawDND = ev.On && ev.Code == want
				case CallStatus:
					if ev.State == CallIncoming {
						t.Fatalf("DND call rang: %+v", ev)
					}
					if ev.State == CallEnded {
						ended = ev
						break wait
					}
				}
			case <-deadline:
				t.Fatal("no ended event for the DND call")
			}
		}
		if !sawDND {
			t.Fatalf("no dnd event (on, %d) before the call", want)
		}
		rec, n := history.last()
		if n == 0 || rec.ID != ended.ID || rec.Code != want || rec.By != "local" || !rec.Answered.IsZero() {
			t.Fatalf("history: %+v (%d records), want the call refused %d", rec, n, want)
		}
	}
	a.SetDND(false, 0)
	id, err := b.Dial("", "sip:a@"+aAddr, CallAudio{}, DialOptions{RingTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitCall(t, aEv, "", CallIncoming)
	if err := b.Hangup(id); err != nil {
		t.Fatal(err)
	}
	waitCall(t, bEv, id, CallEnded)
}

// TestHoldErrors: hold and resume of a call that does not exist or is not answered are clear
// errors, and the call goes on.
func TestHoldErrors(t *testing.T) {
	a, _, aEv := runPhone(t, Config{})
	b, bAddr, bEv := runPhone(t, Config{})
	if err := a.Hold("c99"); err == nil || !strings.Contains(err.Error(), "no such call") {
		t.Fatalf("hold of no call: %v", err)
	}
	if err := a.Resume("c99"); err == nil {
		t.Fatal("resume of no call: no error")
	}
	id, err := a.Dial("", "sip:b@"+bAddr, CallAudio{}, DialOptions{RingTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	in := waitCall(t, bEv, "", CallIncoming).ID
	if err := b.Hold(in); err == nil || !strings.Contains(err.Error(), "not answered") {
		t.Fatalf("hold of a ringing call: %v", err)
	}
	if err := b.Answer(in, CallAudio{}); err != nil {
		t.Fatal(err)
	}
	waitCall(t, aEv, id, CallAnswered)
	if err := a.Resume(id); err != nil { // not on hold: nothing to do, no re-INVITE
		t.Fatal(err)
	}
	flowing(t, a, id, true, "after a resume of a call not on hold")
	if s := status(t, a, id); s.State != CallAnswered {
		t.Fatalf("%v, want answered", s.State)
	}
}

// TestResumeSwaps: with one call held and another talking, resuming the held one holds the
// other (swap).
func TestResumeSwaps(t *testing.T) {
	a, aAddr, aEv := runPhone(t, Config{})
	b, _, bEv := runPhone(t, Config{})
	c, _, _ := runPhone(t, Config{})
	_, first := talkingPair(t, b, a, aAddr, bEv, aEv)
	if _, err := c.Dial("", "sip:a@"+aAddr, CallAudio{}, DialOptions{RingTimeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	second := waitCall(t, aEv, "", CallIncoming).ID
	if err := a.Answer(second, CallAudio{}); err != nil {
		t.Fatal(err)
	}
	waitHold(t, aEv, first, true, "local")
	for i := 0; i < 100 && status(t, a, second).State != CallAnswered; i++ {
		time.Sleep(20 * time.Millisecond) // its answered event may have come before the hold
	}
	if err := a.Resume(first); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if status(t, a, first).State == CallAnswered && status(t, a, second).State == CallHolding {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("after the swap: first %v, second %v", status(t, a, first).State, status(t, a, second).State)
}

// TestDNDCodeFromConfig: the configured refusal is what DND() reports before anyone set one,
// so a front end's plain toggle refuses with it.
func TestDNDCodeFromConfig(t *testing.T) {
	for cfg, want := range map[int]int{0: 486, 603: 603, 200: 486} {
		p, err := New(Config{DNDCode: cfg})
		if err != nil {
			t.Fatal(err)
		}
		if on, code := p.DND(); on || code != want {
			t.Errorf("DNDCode %d: DND() = %v, %d; want off, %d", cfg, on, code, want)
		}
	}
}

// TestParallelAnswersSideBySide: an answering machine (Config.Parallel) answers a second
// caller without putting the first on hold: both calls carry audio.
func TestParallelAnswersSideBySide(t *testing.T) {
	a, aAddr, aEv := runPhone(t, Config{Parallel: true})
	b, _, bEv := runPhone(t, Config{})
	c, _, cEv := runPhone(t, Config{})
	_, first := talkingPair(t, b, a, aAddr, bEv, aEv)
	cID, err := c.Dial("", "sip:a@"+aAddr, CallAudio{}, DialOptions{RingTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	second := waitCall(t, aEv, "", CallIncoming).ID
	if err := a.Answer(second, CallAudio{}); err != nil {
		t.Fatal(err)
	}
	waitCall(t, cEv, cID, CallAnswered)
	flowing(t, a, second, true, "the second call")
	flowing(t, a, first, true, "the first call, not held")
	if s := status(t, a, first); s.State != CallAnswered || s.Held {
		t.Fatalf("first call %v held=%v, want answered and not held", s.State, s.Held)
	}
}
