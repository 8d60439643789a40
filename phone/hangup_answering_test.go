package phone

import (
	"testing"
	"time"
)

// TestHangupWhileAnswering: the user hangs up while the phone is still answering (here from
// inside the automatic answer, before the 200 is written). The 200 goes out, then the BYE once
// the caller's ACK is in; the caller sees the call answered and ended by the far end. Watching
// for the hang-up before the 200 was written let the BYE be built on no response: sipgo's
// WriteBye dereferenced it (the process died) or refused it (the caller's call stayed up).
func TestHangupWhileAnswering(t *testing.T) {
	var a *Phone
	a, aAddr, aEv := runPhone(t, Config{AutoAnswer: true, Parallel: true,
		AutoAnswerAudio: func(s CallStatus) (CallAudio, error) {
			if err := a.Hangup(s.ID); err != nil {
				t.Errorf("hang-up while answering: %v", err)
			}
			return CallAudio{}, nil
		}})
	b, _, bEv := runPhone(t, Config{})
	for round := range 5 {
		id, err := b.Dial("", "sip:a@"+aAddr, CallAudio{}, DialOptions{RingTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		end := waitCall(t, bEv, id, CallEnded)
		if end.Answered.IsZero() || end.By != "remote" {
			t.Fatalf("round %d: the caller's call ended %+v; want answered, then ended by the far end", round, end)
		}
		ours := waitCall(t, aEv, "", CallEnded)
		if ours.By != "local" {
			t.Fatalf("round %d: our side ended %+v, want by us", round, ours)
		}
	}
}
