package phone

import (
	"testing"
	"time"
)

// waitCall returns the next CallStatus for id in state want.
func waitCall(t *testing.T, events <-chan Event, id string, want CallState) CallStatus {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if s, ok := ev.(CallStatus); ok && (id == "" || s.ID == id) && s.State == want {
				return s
			}
		case <-deadline:
			t.Fatalf("call %s never reached %v", id, want)
		}
	}
}

// TestBusyAtTheMaximumOfCalls: a phone that already has its maximum of calls answers the next
// INVITE 486, and the caller reports busy.
func TestBusyAtTheMaximumOfCalls(t *testing.T) {
	_, calleeAddr, calleeEvents := runPhone(t, Config{MaxCalls: 1})
	caller, _, callerEvents := runPhone(t, Config{})
	first, err := caller.Dial("", "sip:x@"+calleeAddr, CallAudio{}, DialOptions{RingTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitCall(t, calleeEvents, "", CallIncoming) // ringing, unanswered: the callee is full
	second, err := caller.Dial("", "sip:y@"+calleeAddr, CallAudio{}, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	end := waitCall(t, callerEvents, second, CallEnded)
	if end.Code != 486 || end.Failure != FailureBusy {
		t.Fatalf("second call ended %d %q (%v), want 486 busy", end.Code, end.Reason, end.Failure)
	}
	if err := caller.Hangup(first); err != nil {
		t.Fatal(err)
	}
	if end := waitCall(t, callerEvents, first, CallEnded); end.By != "local" {
		t.Fatalf("first call ended %+v", end)
	}
}
