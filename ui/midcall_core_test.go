package ui

import (
	"strings"
	"testing"

	"github.com/dialtone/dialtone/phone"
)

// The core's status says who holds whom; the calls pane shows it, and a call the far end
// holds takes no DTMF.
func TestHoldStatesFromTheCore(t *testing.T) {
	d := newDriver(t, Options{})
	ours := answered("c1", t0)
	ours.State, ours.Held = phone.CallHolding, true
	theirs := answered("c2", t0)
	theirs.Peer, theirs.PeerName = "sip:carol@example.com", "Carol"
	theirs.State, theirs.RemoteHeld = phone.CallHeld, true
	d.send(ours)
	d.send(theirs)
	s := d.screen()
	if row := callRow(s, "Bob"); !strings.Contains(row, "holding") || !strings.Contains(row, "00:00") {
		t.Errorf("our held call's row is %q, want holding and its timer", row)
	}
	if row := callRow(s, "Carol"); !strings.Contains(row, "held") || strings.Contains(row, "holding") {
		t.Errorf("the far end's hold shows as %q, want held", row)
	}
	d.keys("5") // no call is being talked to: the digit starts dialling
	wantCalls(t, d.ph)
	if !d.m.dialer.Focused() {
		t.Error("a digit with every call on hold did not start dialling")
	}
	d.keys("esc")
	// space on our held call (c1, selected with ↑) resumes it; c2 is not talked to, so
	// nothing else is held first.
	d.keys("up", "space")
	wantCalls(t, d.ph, "resume c1")
	// The core's next status takes over from the command's result.
	ours.State, ours.Held = phone.CallAnswered, false
	d.send(ours)
	if row := callRow(d.screen(), "Bob"); !strings.Contains(row, "answered") {
		t.Errorf("after the core's resume the row is %q", row)
	}
}

func TestRemoteHoldNotice(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	d.send(phone.HoldChanged{Time: t0, CallID: "c1", Held: true, By: "remote"})
	contains(t, d.screen(), "Bob <bob@example.org> put the call on hold")
	d.send(phone.HoldChanged{Time: t0, CallID: "c1", Held: false, By: "remote"})
	contains(t, d.screen(), "Bob <bob@example.org> took the call off hold")
}

// Do-not-disturb turned on elsewhere (a script through dialtone ctl) shows too.
func TestDNDChangedEvent(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(phone.DNDChanged{Time: t0, On: true, Code: 603})
	contains(t, d.screen(), "⊘ do not disturb")
	d.send(phone.DNDChanged{Time: t0, On: false, Code: 603})
	if strings.Contains(d.screen(), "do not disturb") {
		t.Error("do not disturb still shown")
	}
}
