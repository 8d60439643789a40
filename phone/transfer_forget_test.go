package phone

import (
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestCallForgottenWhenItsByeIsNotAnswered: sipp answers our call and never answers our BYE
// (testdata/sipp_uas_bye_unanswered.xml). The call ends when the BYE times out, and the phone
// keeps nothing of it for transfer: sipgo ends the dialog's context only on a 200 to the BYE,
// and the dialog stayed filed (with a pending transfer's timer, had there been one).
func TestCallForgottenWhenItsByeIsNotAnswered(t *testing.T) {
	t.Parallel()
	s := peers.StartSippUAS(t, peers.SippOptions{Scenario: "testdata/sipp_uas_bye_unanswered.xml"})
	a, _, aEv := runPhone(t, Config{})
	id, err := a.Dial("", s.URI("bob"), CallAudio{}, DialOptions{RingTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitCall(t, aEv, id, CallAnswered)
	a.xfer.mu.Lock()
	_, filed := a.xfer.dialogs[id]
	a.xfer.mu.Unlock()
	if !filed {
		t.Fatal("the answered call's dialog was never filed for transfer: the test proves nothing")
	}
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	waitCall(t, aEv, id, CallEnded)
	for i := 0; len(a.Calls()) != 0; i++ { // removed just after its last event
		if i == 100 {
			t.Fatalf("the call is still there: %+v", a.Calls())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// removeCall forgets the dialog just after it takes the call off the list: wait for it
	// (checked once, the test raced it).
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		a.xfer.mu.Lock()
		_, kept := a.xfer.dialogs[id]
		a.xfer.mu.Unlock()
		if !kept {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the ended call's dialog is still filed for transfer")
		}
	}
}
