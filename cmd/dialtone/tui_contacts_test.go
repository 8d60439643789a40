package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/store"
	"github.com/dialtone/dialtone/ui"
)

// namesPhone is a ui.Phone that replays events; only Subscribe does anything.
type namesPhone struct{ events []phone.Event }

func (p namesPhone) Subscribe(ctx context.Context) <-chan phone.Event {
	ch := make(chan phone.Event, len(p.events))
	for _, ev := range p.events {
		ch <- ev
	}
	go func() { <-ctx.Done(); close(ch) }()
	return ch
}
func (namesPhone) Dial(string, string) (string, error)      { return "", nil }
func (namesPhone) Answer(string) error                      { return nil }
func (namesPhone) Reject(string, int) error                 { return nil }
func (namesPhone) Hangup(string) error                      { return nil }
func (namesPhone) Mute(string, bool) error                  { return nil }
func (namesPhone) SendDTMF(string, string) error            { return nil }
func (namesPhone) Hold(string) error                        { return nil }
func (namesPhone) Resume(string) error                      { return nil }
func (namesPhone) Transfer(string, string) error            { return nil }
func (namesPhone) TransferTo(string, string) error          { return nil }
func (namesPhone) SetDND(bool) error                        { return nil }
func (namesPhone) DND() bool                                { return false }
func (namesPhone) SendMessage(string, string, string) error { return nil }
func (namesPhone) Accounts() []string                       { return []string{"office"} }

type namesHistory struct{ calls []ui.CallRecord }

func (h namesHistory) Conversations() ([]ui.Conversation, error)   { return nil, nil }
func (h namesHistory) Thread(string, int) ([]phone.Message, error) { return nil, nil }
func (h namesHistory) MarkRead(string) error                       { return nil }
func (h namesHistory) Calls(int) ([]ui.CallRecord, error)          { return h.calls, nil }

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// TestTUIShowsContactNames runs the real TUI over the front end's contact wrappers: an incoming
// call from a contact (whose INVITE carried no display name), a message from one, and a past
// call with one are shown under the contacts' names; a stranger keeps its address.
func TestTUIShowsContactNames(t *testing.T) {
	names := newContactNames([]store.Contact{
		{Name: "Bob Builder", URIs: []string{"sip:bob@example.org"}},
		{Name: "Carol Contact", URIs: []string{"sip:carol@example.com"}},
	})
	t0 := time.Now()
	events := []phone.Event{
		phone.Snapshot{Time: t0, Accounts: []phone.AccountStatus{{Time: t0, Account: "office", AOR: "sip:alice@example.com", State: phone.Registered}}},
		phone.CallStatus{Time: t0, ID: "c1", Account: "office", Direction: phone.Incoming, Peer: "sip:bob@example.org",
			State: phone.CallIncoming, Started: t0},
		phone.Message{Time: t0, Direction: phone.Incoming, Account: "office", Peer: "sip:carol@example.com", PeerName: "carol's phone",
			Text: "call me", Status: "received"},
	}
	hist := namesHistory{calls: []ui.CallRecord{
		{Peer: "sip:carol@example.com", Direction: "outgoing", Account: "office", Start: t0.Add(-time.Hour), Answered: true, Duration: time.Minute, Code: 200, By: "local"},
		{Peer: "sip:dave@example.net", Direction: "incoming", Account: "office", Start: t0.Add(-2 * time.Hour), By: "remote"},
	}}
	if cs := names.uiContacts(); len(cs) != 2 || cs[0] != (ui.Contact{Name: "Bob Builder", URI: "sip:bob@example.org"}) {
		t.Errorf("uiContacts = %+v", cs)
	}
	m := ui.New(ui.Options{Phone: withContacts(namesPhone{events}, names), History: withContactHistory(hist, names), NoColor: true,
		Contacts: names.uiContacts()})
	out := &lockedBuffer{}
	p := tea.NewProgram(m, tea.WithInput(nil), tea.WithOutput(out), tea.WithoutSignals(),
		tea.WithWindowSize(120, 40), tea.WithColorProfile(colorprofile.NoTTY))
	done := make(chan tea.Model, 1)
	go func() {
		final, err := p.Run()
		if err != nil {
			t.Errorf("program: %v", err)
		}
		done <- final
	}()
	var screen string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		p.Send(nil) // a no-op message: wait until the events and the history are in
		time.Sleep(50 * time.Millisecond)
		out.mu.Lock()
		raw := out.b.String()
		out.mu.Unlock()
		if strings.Contains(raw, "Bob Builder") && strings.Contains(raw, "Carol Contact") && strings.Contains(raw, "dave@example.net") {
			break
		}
	}
	p.Quit()
	select {
	case final := <-done:
		screen = ansi.Strip(final.View().Content)
	case <-time.After(10 * time.Second):
		p.Kill()
		t.Fatal("the program did not quit")
	}
	t.Logf("screen:\n%s", screen)
	for _, want := range []string{"Bob Builder <bob@example.org>", "Carol Contact", "dave@example.net"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the screen does not show %q", want)
		}
	}
	if strings.Contains(screen, "carol's phone") {
		t.Error("the display name Carol's phone sent shows instead of her contact name")
	}
}

// TestContactPhoneRelay: names go into calls and messages, other events pass, and the relay
// closes when the phone's channel does.
func TestContactPhoneRelay(t *testing.T) {
	names := newContactNames([]store.Contact{{Name: "Bob", URIs: []string{"sip:bob@example.org"}}})
	if p := withContacts(namesPhone{}, nil); p == nil {
		t.Fatal("withContacts(nil names) = nil")
	} else if _, wrapped := p.(contactPhone); wrapped {
		t.Error("no address book: the phone should not be wrapped")
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := withContacts(namesPhone{[]phone.Event{
		phone.CallStatus{ID: "c", Peer: "<sip:bob@example.org>;tag=1", PeerName: "sent"},
		phone.DTMFReceived{CallID: "c", Digit: '1'},
		phone.Message{Peer: "sip:eve@example.org", PeerName: "Eve"},
	}}, names).Subscribe(ctx)
	got := []phone.Event{<-ch, <-ch, <-ch}
	if s := got[0].(phone.CallStatus); s.PeerName != "Bob" {
		t.Errorf("call PeerName = %q", s.PeerName)
	}
	if d, ok := got[1].(phone.DTMFReceived); !ok || d.Digit != '1' {
		t.Errorf("DTMF event = %#v", got[1])
	}
	if m := got[2].(phone.Message); m.PeerName != "Eve" {
		t.Errorf("a stranger's message PeerName = %q", m.PeerName)
	}
	cancel()
	select {
	case _, open := <-ch:
		if open {
			t.Error("an event after the end")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the relay did not close")
	}
}
