package phone

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestCallAgainRightAfterTheEnd: a phone that takes one call at a time answers the next caller
// as soon as the call before has ended, although that call's history is still being written:
// ended calls do not count against MaxCalls. The history store here is slow on purpose.
func TestCallAgainRightAfterTheEnd(t *testing.T) {
	slow := &slowCalls{delay: time.Second}
	b, bAddr, bEv := runPhone(t, Config{MaxCalls: 1, Calls: slow})
	a, _, aEv := runPhone(t, Config{})
	for i := range 2 {
		if i == 1 {
			// The first call is still B's until its history is written.
			for j := 0; slow.started.Load() == 0; j++ {
				if j == 100 {
					t.Fatal("B never began to write the first call's history")
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		id, err := a.Dial("", "sip:b@"+bAddr, CallAudio{}, DialOptions{RingTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		bID := answerNext(t, b, bEv, CallAudio{})
		waitCall(t, aEv, id, CallAnswered)
		if err := b.Hangup(bID); err != nil {
			t.Fatal(err)
		}
		if s := waitCall(t, aEv, id, CallEnded); s.Code != 0 && s.By != "remote" {
			t.Fatalf("call %d ended %d %s by %s", i, s.Code, s.Reason, s.By)
		}
	}
}

// slowCalls is a call history whose every write takes delay.
type slowCalls struct {
	delay   time.Duration
	started atomic.Int32
}

func (s *slowCalls) SaveCall(ctx context.Context, _ CallStatus) error {
	s.started.Add(1)
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
	}
	return nil
}

// TestNoStatusAfterTheEnd: a call stays known to the phone while its history is written, but
// it is over: Mute, Answer, Reject, Hangup, SendDTMF and Hold fail with ErrNoSuchCall, and
// nothing more is published (Mute published a second "ended", and `serve`'s `ctl answer`
// could file audio for a call that had ended).
func TestNoStatusAfterTheEnd(t *testing.T) {
	b, bAddr, bEv := runPhone(t, Config{Calls: &slowCalls{delay: time.Second}})
	a, _, aEv := runPhone(t, Config{})
	id, err := a.Dial("", "sip:b@"+bAddr, CallAudio{}, DialOptions{RingTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	bID := answerNext(t, b, bEv, CallAudio{})
	waitCall(t, aEv, id, CallAnswered)
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	waitCall(t, bEv, bID, CallEnded)
	for name, do := range map[string]func() error{
		"Mute":     func() error { return b.Mute(bID, true) },
		"Answer":   func() error { return b.Answer(bID, CallAudio{}) },
		"Reject":   func() error { return b.Reject(bID, 486) },
		"Hangup":   func() error { return b.Hangup(bID) },
		"SendDTMF": func() error { return b.SendDTMF(bID, "1") },
		"Hold":     func() error { return b.Hold(bID) },
	} {
		if err := do(); !errors.Is(err, ErrNoSuchCall) {
			t.Errorf("%s after the end: %v, want ErrNoSuchCall", name, err)
		}
	}
	for timeout := time.After(300 * time.Millisecond); ; {
		select {
		case ev := <-bEv:
			if s, ok := ev.(CallStatus); ok && s.ID == bID {
				t.Fatalf("status %v (muted %v) published after the end", s.State, s.Muted)
			}
			continue
		case <-timeout:
		}
		break
	}
}
