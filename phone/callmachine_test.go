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
		{lifecycle.FailureNoAnswer, FailureNoAnswer}, {lifecycle.FailureDeclined, FailureDeclined}, {lifecycle.FailureMedia, FailureMedia}, {lifecycle.FailureInsecure, FailureInsecure},
	} {
		if uint8(f.m) != uint8(f.p) {
			t.Errorf("call failure %d is phone failure %v (%d)", f.m, f.p, f.p)
		}
	}
	for code, want := range map[int]Failure{486: FailureBusy, 487: FailureNoAnswer, 404: FailureNotFound, 407: FailureAuth, 603: FailureDeclined, 200: NoFailure} {
		if got := Failure(lifecycle.FailureFor(code)); got != want {
			t.Errorf("%d: %v, want %v", code, got, want)
		}
	}
}
