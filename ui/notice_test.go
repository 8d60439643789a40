package ui

import (
	"strings"
	"testing"

	"github.com/dialtone/dialtone/phone"
)

func lacks(t *testing.T, screen string, text string) {
	t.Helper()
	if strings.Contains(screen, text) {
		t.Errorf("screen still shows %q:\n%s", text, screen)
	}
}

// A notice about a call goes when that call ends, and only then: the end of another call
// leaves it, and a notice about no call (or a transfer's outcome) stays.
func TestCallNoticeGoesWithItsCall(t *testing.T) {
	d := newDriver(t, Options{})
	c1 := answered("c1", t0)
	d.send(c1)
	d.keys("m")
	contains(t, d.screen(), "microphone muted")
	d.send(ended(c1, t0, "remote"))
	lacks(t, d.screen(), "microphone muted")

	c2, c3 := answered("c2", t0), answered("c3", t0)
	d.send(c2)
	d.send(c3)
	d.send(phone.HoldChanged{Time: t0, CallID: "c3", Held: true, By: "remote"})
	d.send(ended(c2, t0, "remote"))
	contains(t, d.screen(), "put the call on hold")
	d.send(phone.AudioDeviceLost{Time: t0, CallID: "c3", Device: "speaker"})
	d.send(ended(c3, t0, "remote"))
	lacks(t, d.screen(), "goes on without it") // the log pane keeps its line

	c4 := answered("c4", t0)
	d.send(c4)
	d.send(phone.TransferProgress{Time: t0, CallID: "c4", Code: 200, Reason: "OK", Final: true})
	d.send(ended(c4, t0, "local")) // the core hangs up a transferred call
	contains(t, d.screen(), "transferred (200 OK)")
}

// A transfer that failed leaves news for its call; a second try on the same call still says
// the REFER was accepted, and the news goes with the call.
func TestRetriedTransferShowsAccepted(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	d.keys("T")
	d.typeText("sip:quinn@example.com")
	d.keys("enter")
	d.send(phone.TransferProgress{Time: t0, CallID: "c1", Code: 486, Reason: "Busy Here", Final: true})
	contains(t, d.screen(), "transfer failed: 486 Busy Here")
	d.keys("T")
	d.typeText("sip:rob@example.com")
	d.keys("enter")
	wantCalls(t, d.ph, "transfer c1 sip:quinn@example.com", "transfer c1 sip:rob@example.com")
	contains(t, d.screen(), "transfer accepted by the far end; waiting for the outcome")

	d.send(phone.TransferProgress{Time: t0, CallID: "c1", Code: 100, Reason: "Trying"})
	d.send(ended(answered("c1", t0), t0, "remote"))
	if _, ok := d.m.xferNews["c1"]; ok {
		t.Error("the transfer news of an ended call is kept")
	}
}
