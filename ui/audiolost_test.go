package ui

import (
	"errors"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/phone"
)

// A headset unplugged mid-call: the notice line says so and what to do, the call stays in the
// calls pane, and the log pane gets one line with the backend's words.
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
	if n := d.m.log.Len() - lines; n != 1 {
		t.Errorf("the loss added %d lines to the log pane, want 1 (with the backend's error)", n)
	}
}
