package ui

import (
	"testing"

	"github.com/dialtone/dialtone/phone"
)

// Talking to c1 while c2 rings: the hold and hang-up keys act on c1, not on the ringing call.
func TestRingingCallDoesNotTakeTheSelection(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	d.send(incoming("c2"))
	d.keys("H", "h")
	wantCalls(t, d.ph, "hold c1", "hangup c1")
}

func outgoing(id, peer string) phone.CallStatus {
	return phone.CallStatus{Time: t0, ID: id, Account: "office", Direction: phone.Outgoing,
		Peer: peer, State: phone.CallCalling, Started: t0}
}

// Dialling while talking selects the new call, whether its first status reaches the UI
// before Dial's answer or after it.
func TestDialSelectsTheNewCall(t *testing.T) {
	for _, early := range []bool{false, true} {
		d := newDriver(t, Options{})
		d.send(answered("c9", t0))
		if early {
			d.send(outgoing("c1", "sip:carol@example.com")) // the fake's Dial returns c1
		}
		d.keys("d")
		d.typeText("sip:carol@example.com")
		d.keys("enter") // holds c9, dials, and handles Dial's answer
		if !early {
			d.send(outgoing("c1", "sip:carol@example.com"))
		}
		if c, _ := d.m.calls.Selected(); c.Status.ID != "c1" {
			t.Errorf("status first=%v: selected %q after dialling, want c1", early, c.Status.ID)
		}
	}
}
