package phone

import (
	"testing"

	lifecycle "github.com/dialtone/dialtone/phone/call"
)

// TestCallMachineMirrorsPhoneTypes: phone/call's failures and states carry the values the
// phone's own (printed, stored) enums have, so converting between them is a plain cast.
func TestCallMachineMirrorsPhoneTypes(t *testing.T) {
	for _, f := range []struct {
		m lifecycle.Failure
		p Failure
	}{
		{lifecycle.NoFailure, NoFailure}, {lifecycle.FailureAuth, FailureAuth}, {lifecycle.FailureNetwork, FailureNetwork},
		{lifecycle.FailureConfig, FailureConfig}, {lifecycle.FailureNotFound, FailureNotFound}, {lifecycle.FailureBusy, FailureBusy},
		{lifecycle.FailureNoAnswer, FailureNoAnswer}, {lifecycle.FailureDeclined, FailureDeclined}, {lifecycle.FailureMedia, FailureMedia},
	} {
		if uint8(f.m) != uint8(f.p) {
			t.Errorf("call failure %d is phone failure %v (%d)", f.m, f.p, f.p)
		}
	}
	for code := 300; code < 700; code++ {
		if got, want := Failure(lifecycle.FailureFor(code)), failureForCall(code); got != want {
			t.Errorf("%d: lifecycle.FailureFor %v, failureForCall %v", code, got, want)
		}
	}
}
