package ui

import (
	"strings"
	"testing"
)

// TestDialerCompletesContactNames: typing part of a contact's name offers its address beside
// the field, Tab puts it in, and Enter on a whole name dials the contact's address. Typed
// addresses and dialled targets complete as before.
func TestDialerCompletesContactNames(t *testing.T) {
	d := newDriver(t, Options{Contacts: []Contact{
		{Name: "Bob Builder", URI: "sip:bob@example.org"},
		{Name: "Boris Petrov", URI: "sip:boris@example.net"},
		{Name: "Zoë Ångström", URI: "tel:+15550100"},
		{Name: "Carla", URI: "sip:carla@example.com"},
	}})
	d.send(snapshot(registered("office", "sip:alice@example.com")))
	d.keys("d")
	d.typeText("bo")
	line := dialLine(t, d.screen())
	contains(t, line, "⇥ Bob Builder <bob@example.org>")
	d.typeText("r")
	contains(t, dialLine(t, d.screen()), "⇥ Boris Petrov <boris@example.net>")
	d.keys("tab")
	if v := d.m.dialer.Value(); v != "sip:boris@example.net" {
		t.Fatalf("after tab the field holds %q, want Boris's address", v)
	}
	d.keys("enter")

	// A later word of the name, any case; a letter that is a global key elsewhere stays text.
	d.keys("d")
	d.typeText("åNG")
	contains(t, dialLine(t, d.screen()), "⇥ Zoë Ångström <tel:+15550100>")
	d.keys("tab", "enter")

	// The whole name, Enter: the contact's address is dialled.
	d.keys("d")
	d.typeText("bob builder")
	d.keys("enter")

	// No contact matches: tab does nothing, the account shows, the text is dialled as typed.
	d.keys("d")
	d.typeText("carol")
	line = dialLine(t, d.screen())
	if strings.Contains(line, "⇥") || !strings.Contains(line, "via office") {
		t.Errorf("no match, dial line %q", line)
	}
	d.keys("tab", "enter")
	wantCalls(t, d.ph, "dial office sip:boris@example.net", "dial office tel:+15550100", "dial office sip:bob@example.org", "dial office carol")

	// A dialled target that extends the text wins Tab over a name (history first).
	d.keys("d")
	d.typeText("ca")
	if m, ok := d.m.dialer.ContactMatch(); ok {
		t.Errorf("with a dialled target to complete, ContactMatch = %+v", m)
	}
	d.keys("tab")
	if v := d.m.dialer.Value(); v != "carol" {
		t.Errorf("tab after ca: %q, want the dialled carol", v)
	}
}

func dialLine(t *testing.T, screen string) string {
	t.Helper()
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, "Dial ❯") {
			return l
		}
	}
	t.Fatalf("no dial line on the screen:\n%s", screen)
	return ""
}

// TestDialerReadsContactsAgain: a contact added while the TUI runs completes the next time the
// dialer opens (Options.ContactsNow, read from a command), and one removed no longer does.
func TestDialerReadsContactsAgain(t *testing.T) {
	book := []Contact{{Name: "Bob Builder", URI: "sip:bob@example.org"}}
	reads := 0
	d := newDriver(t, Options{Contacts: book, ContactsNow: func() []Contact { reads++; return book }})
	d.send(snapshot(registered("office", "sip:alice@example.com")))
	book = []Contact{{Name: "Dana Scully", URI: "sip:dana@example.net"}}
	d.keys("d")
	d.typeText("da")
	contains(t, dialLine(t, d.screen()), "⇥ Dana Scully <dana@example.net>")
	d.keys("esc")
	d.keys("d")
	d.typeText("bo")
	if line := dialLine(t, d.screen()); strings.Contains(line, "Bob Builder") {
		t.Errorf("Bob was removed, yet the dialer offers him: %q", line)
	}
	if reads != 2 {
		t.Errorf("the address book was read %d times for two openings of the dialer", reads)
	}
}
