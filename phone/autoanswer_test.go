package phone

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// statesOf collects the states events publishes for calls until one ends, in order.
func statesOf(t *testing.T, events <-chan Event) (id string, states []CallState, last CallStatus) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			s, ok := ev.(CallStatus)
			if !ok {
				continue
			}
			if id == "" {
				id = s.ID
			}
			if s.ID != id {
				t.Fatalf("events of another call %s while %s is up", s.ID, id)
			}
			states = append(states, s.State)
			if s.State == CallEnded {
				return id, states, s
			}
		case <-deadline:
			t.Fatalf("call %s never ended; states so far %v", id, states)
		}
	}
}

// TestAutoAnswerAudioAnswersWithoutTheFrontEnd: with Config.AutoAnswerAudio the phone answers
// an incoming call itself (nobody calls Answer) with a lone 200 OK, calls the function once
// with the call's status, and publishes the same events in the same order as when the front
// end answers: incoming, answered, ended.
func TestAutoAnswerAudioAnswersWithoutTheFrontEnd(t *testing.T) {
	var mu sync.Mutex
	var asked []CallStatus
	a, aAddr, aEv := runPhone(t, Config{AutoAnswer: true, Parallel: true,
		AutoAnswerAudio: func(s CallStatus) (CallAudio, error) {
			mu.Lock()
			asked = append(asked, s)
			mu.Unlock()
			return CallAudio{}, nil
		}})
	codes, port := responsesTo(t, aAddr)
	if !slices.Equal(codes, []int{200}) || port == 0 {
		t.Fatalf("responses %v (RTP port %d), want only a 200 with an SDP answer", codes, port)
	}
	id, states, last := statesOf(t, aEv)
	if want := []CallState{CallIncoming, CallAnswered, CallEnded}; !slices.Equal(states, want) {
		t.Errorf("states %v, want %v", states, want)
	}
	if last.Answered.IsZero() || last.Failure != NoFailure {
		t.Errorf("ended %+v, want answered with no failure", last)
	}
	mu.Lock()
	if len(asked) != 1 || asked[0].ID != id || asked[0].State != CallIncoming || asked[0].Direction != Incoming {
		t.Errorf("AutoAnswerAudio called with %+v, want once with call %s incoming", asked, id)
	}
	mu.Unlock()
	noCalls(t, a)

	// A real caller: the media of a call the phone answered itself flows both ways.
	b, _, bEv := runPhone(t, Config{})
	bid, err := b.Dial("", "sip:a@"+aAddr, CallAudio{}, DialOptions{RingTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitCall(t, bEv, bid, CallAnswered)
	ours := waitCall(t, aEv, "", CallAnswered)
	flowing(t, a, ours.ID, true, "the call answered by the phone itself")
	flowing(t, b, bid, true, "the caller's call")
	if err := b.Hangup(bid); err != nil {
		t.Fatal(err)
	}
	waitCall(t, bEv, bid, CallEnded)
	noCalls(t, a)
}

// TestAutoAnswerAudioRejects: an AutoAnswerFunc's error turns the call away with a
// RejectError's code, else 480, and the call ends as rejected by us.
func TestAutoAnswerAudioRejects(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{&RejectError{Code: 603, Err: errors.New("not now")}, 603},
		{&RejectError{Code: 486}, 486},
		{&RejectError{Code: 200}, 480}, // not a rejection code
		{errors.New("no sound device"), 480},
	} {
		a, aAddr, aEv := runPhone(t, Config{AutoAnswer: true,
			AutoAnswerAudio: func(CallStatus) (CallAudio, error) { return CallAudio{}, tc.err }})
		if codes, _ := responsesTo(t, aAddr); !slices.Equal(codes, []int{tc.want}) {
			t.Errorf("%v: responses %v, want %d", tc.err, codes, tc.want)
		}
		_, states, last := statesOf(t, aEv)
		if want := []CallState{CallIncoming, CallEnded}; !slices.Equal(states, want) {
			t.Errorf("%v: states %v, want %v", tc.err, states, want)
		}
		if last.Code != tc.want || last.By != "local" || !last.Answered.IsZero() {
			t.Errorf("%v: ended %+v, want rejected locally with %d", tc.err, last, tc.want)
		}
		noCalls(t, a)
	}
}
