package ui

import (
	"image/color"
	"reflect"
	"regexp"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/dialtone/dialtone/phone"
)

// sgrColour matches an SGR sequence that sets a foreground or background colour.
var sgrColour = regexp.MustCompile(`\x1b\[[0-9;]*(3[0-9]|4[0-9]|9[0-7]|10[0-7])[;m]`)

func busyScreen(d *driver) string {
	d.send(snapshot(registered("office", "sip:alice@example.com"), phone.AccountStatus{Account: "home", State: phone.RegFailed, Code: 403, Reason: "Forbidden"}))
	d.send(incoming("c2"))
	d.send(answered("c1", t0))
	d.send(LogLine{Time: t0, Level: "ERROR", Text: "boom"})
	return d.m.View().Content
}

func TestNoColorHasNoColours(t *testing.T) {
	d := newDriver(t, Options{}) // the driver always sets NoColor
	if v := busyScreen(d); sgrColour.MatchString(v) {
		t.Errorf("NoColor screen sets colours: %q", sgrColour.FindString(v))
	}
	// Focus and selection stay visible without colour: reverse video and a heavier border.
	if v := d.m.View().Content; !strings.Contains(v, "\x1b[7m") || !strings.Contains(v, "┏") {
		t.Error("no colour-free focus or selection marks")
	}
}

func TestBackgroundPicksStyles(t *testing.T) {
	d := newDriver(t, Options{})
	d.m.opts.NoColor = false
	d.send(tea.BackgroundColorMsg{Color: color.Black})
	dark := busyScreen(d)
	if !sgrColour.MatchString(dark) {
		t.Fatal("colour screen has no colours")
	}
	d.send(tea.BackgroundColorMsg{Color: color.White})
	light := d.m.View().Content
	if light == dark {
		t.Error("light and dark backgrounds render the same")
	}
	if d.m.c.Styles.IsDark {
		t.Error("styles did not switch to light")
	}
}

// The terminal is asked for its background colour (to pick light or dark styles) unless
// NO_COLOR makes the answer useless.
func TestInitAsksForBackgroundUnlessNoColor(t *testing.T) {
	asks := func(o Options) bool {
		m := New(o)
		cmd := m.Init()
		// Cancelled first: a lone command is the subscription read, which would block.
		m.cancel()
		b, ok := cmd().(tea.BatchMsg)
		if !ok {
			return false // a single command: the subscription read
		}
		for _, c := range b {
			if c != nil && reflect.ValueOf(c).Pointer() == reflect.ValueOf(tea.RequestBackgroundColor).Pointer() {
				return true
			}
		}
		return false
	}
	if !asks(Options{Phone: newFakePhone()}) {
		t.Error("Init does not ask for the background colour")
	}
	if asks(Options{Phone: newFakePhone(), NoColor: true}) {
		t.Error("Init asks for the background colour under NO_COLOR")
	}
}
