package phone

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
)

// TestAttendedTransferToAnAutoAnswerer: the transfer target answers every call itself
// (Config.AutoAnswerAudio, as `dialtone answer --auto`) and takes one call at a time
// (MaxCalls 1). The replacing INVITE is not a new caller: it is answered, although the call it
// replaces is still up, with that call's audio, not with the audio the hook hands new callers,
// and the hook is not asked. E and G then hear each other.
func TestAttendedTransferToAnAutoAnswerer(t *testing.T) {
	gHeard, otherHeard := audiotest.NewRecorder(), audiotest.NewRecorder()
	var asked atomic.Int32
	hook := func(CallStatus) (CallAudio, error) {
		if asked.Add(1) == 1 {
			return CallAudio{Source: audiotest.NewTone(900, 0.5), Sink: gHeard}, nil
		}
		return CallAudio{Source: audiotest.NewTone(300, 0.5), Sink: otherHeard}, nil // a new caller's
	}
	tp, tAddr, tEv := runPhone(t, Config{})
	ep, _, eEv := runPhone(t, Config{})
	_, gAddr, gEv := runPhone(t, Config{AutoAnswer: true, AutoAnswerAudio: hook, MaxCalls: 1})
	eHeard := audiotest.NewRecorder()

	e1, t1, t2 := consult(t, ep, tp, eEv, tEv, tAddr, gAddr, eHeard)
	waitCall(t, tEv, t2, CallAnswered)
	g1 := waitCall(t, gEv, "", CallAnswered).ID
	time.Sleep(500 * time.Millisecond)
	eMark, gMark := len(eHeard.Samples()), len(gHeard.Samples())

	if err := tp.TransferTo(t1, t2); err != nil {
		t.Fatal(err)
	}
	if fin := transferOutcome(t, tEv, t1, t1, t2); fin.Code != 200 {
		t.Fatalf("transfer ended %d %s", fin.Code, fin.Reason)
	}
	var g2 string
	g1Ended := false
	waitEvent(t, gEv, "G's replacing call answered", func(ev Event) bool {
		if r, ok := ev.(CallReplaced); ok && r.CallID == g1 {
			g2 = r.NewCallID
		}
		s, ok := ev.(CallStatus)
		if !ok {
			return false
		}
		if s.ID == g1 {
			g1Ended = g1Ended || s.State == CallEnded
			return false
		}
		if s.ID != g2 || s.State == CallIncoming || s.State == CallEnded {
			t.Fatalf("G: call %s %v %d %s; want only the replacement of %s (%q), answered", s.ID, s.State, s.Code, s.Reason, g1, g2)
		}
		return s.State == CallAnswered
	})
	time.Sleep(2 * time.Second) // E and G talk
	if n := asked.Load(); n != 1 {
		t.Errorf("the answer hook was asked %d times, want once (the first call only)", n)
	}
	if !heardAfter(eHeard, eMark, 900) {
		t.Error("E did not hear G's first call's audio (900 Hz) after the transfer")
	}
	if heardAfter(eHeard, eMark, 300) {
		t.Error("E heard the audio G's hook gives new callers (300 Hz)")
	}
	if !heardAfter(gHeard, gMark, 500) {
		t.Error("G did not hear E after the transfer")
	}
	if !g1Ended {
		waitEnded(t, gEv, g1)
	}
	if err := ep.Hangup(waitEvent(t, eEv, "E's call replaced", func(ev Event) bool {
		r, ok := ev.(CallReplaced)
		return ok && r.CallID == e1
	}).(CallReplaced).NewCallID); err != nil {
		t.Fatal(err)
	}
	waitEnded(t, gEv, g2)
}

// consult sets up an attended transfer: E calls T (E playing 500 Hz, hearing into eHeard), T
// answers (700 Hz) and calls G, who is left to answer. It returns E's call and T's two.
func consult(t *testing.T, ep, tp *Phone, eEv, tEv <-chan Event, tAddr, gAddr string, eHeard *audiotest.Recorder) (e1, t1, t2 string) {
	t.Helper()
	e1, err := ep.Dial("", "sip:t@"+tAddr, CallAudio{Source: audiotest.NewTone(500, 0.5), Sink: eHeard}, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t1 = answerNext(t, tp, tEv, CallAudio{Source: audiotest.NewTone(700, 0.5)})
	waitCall(t, eEv, e1, CallAnswered)
	t2, err = tp.Dial("", "sip:g@"+gAddr, CallAudio{Source: audiotest.NewTone(700, 0.5)}, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return e1, t1, t2
}
