package ui

import (
	"errors"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/phone"
)

// A headset unplugged mid-call: the notice line says so and what to do, and the call stays in
// the calls pane. The log pane's line with the backend's words is the core's own log (phone's
// audiolost.go): the pane adds none of its own, which showed the loss twice.
func TestAudioDeviceLostNotice(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	lines := d.m.log.Len()
	d.send(phone.AudioDeviceLost{Time: t0, CallID: "c1", Device: "speaker",
		Err: errors.New(`portaudio: the speaker "USB headset" stopped: sound device lost`)})
	s := d.screen()
	contains(t, s, "the speaker went away")
	if row := callRow(s, "Bob"); !strings.Contains(row, "answered") {
		t.Errorf("the call's row is %q after the speaker went away, want it still answered", row)
	}
	if n := d.m.log.Len() - lines; n != 0 {
		t.Errorf("the pane added %d lines of its own to the log, want none (the core logs the loss)", n)
	}
}
