package history

import (
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone"
)

func TestOutcome(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		s    phone.CallStatus
		want string
		good bool
	}{
		{phone.CallStatus{Answered: t0, By: "remote"}, "answered", true},
		{phone.CallStatus{Direction: phone.Incoming, By: "local", Code: 486}, "rejected", false},
		{phone.CallStatus{Direction: phone.Incoming, By: "remote"}, "missed", false},
		{phone.CallStatus{Code: 486, Failure: phone.FailureBusy}, "busy (486)", false},
		{phone.CallStatus{Failure: phone.FailureNoAnswer}, "no answer", false},
		{phone.CallStatus{By: "local", Code: 487}, "cancelled", false},
		{phone.CallStatus{Code: 500}, "failed (500)", false},
	} {
		got, good := Outcome(c.s)
		if got != c.want || good != c.good {
			t.Errorf("Outcome(%+v) = %q, %v; want %q, %v", c.s, got, good, c.want, c.good)
		}
	}
}
