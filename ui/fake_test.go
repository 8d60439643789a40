package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/internal/uitest"
)

// fakePhone records the commands the UI gives; tests feed events as messages.
type fakePhone struct {
	mu       sync.Mutex
	accounts []string
	calls    []string // "dial office alice", "answer c1", ...
	nextID   int
	muteErr  error
	msgErr   error // what SendMessage returns
	holdErr  error // what Hold returns
	dnd      bool
	events   chan phone.Event // what Subscribe returns
}

func newFakePhone(accounts ...string) *fakePhone {
	return &fakePhone{accounts: accounts, events: make(chan phone.Event, 16)}
}

func (f *fakePhone) record(format string, a ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, a...))
}

func (f *fakePhone) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// Subscribe returns a channel the test may write to; it closes when the UI cancels ctx, as
// the real bus does.
func (f *fakePhone) Subscribe(ctx context.Context) <-chan phone.Event {
	out := make(chan phone.Event)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-f.events:
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

func (f *fakePhone) Dial(account, target string) (string, error) {
	f.record("dial %s %s", account, target)
	if target == "bad" {
		return "", errors.New("dial \"bad\": no host")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	return fmt.Sprintf("c%d", f.nextID), nil
}
func (f *fakePhone) Answer(id string) error { f.record("answer %s", id); return nil }
func (f *fakePhone) Reject(id string, code int) error {
	f.record("reject %s %d", id, code)
	return nil
}
func (f *fakePhone) Hangup(id string) error { f.record("hangup %s", id); return nil }
func (f *fakePhone) Mute(id string, muted bool) error {
	f.record("mute %s %v", id, muted)
	return f.muteErr
}
func (f *fakePhone) SendDTMF(id, digits string) error {
	f.record("dtmf %s %s", id, digits)
	return nil
}
func (f *fakePhone) Hold(id string) error   { f.record("hold %s", id); return f.holdErr }
func (f *fakePhone) Resume(id string) error { f.record("resume %s", id); return nil }
func (f *fakePhone) Transfer(id, target string) error {
	f.record("transfer %s %s", id, target)
	return nil
}
func (f *fakePhone) TransferTo(id, other string) error {
	f.record("transfer-to %s %s", id, other)
	return nil
}
func (f *fakePhone) SetDND(on bool) error {
	f.record("dnd %v", on)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dnd = on
	return nil
}
func (f *fakePhone) DND() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dnd
}
func (f *fakePhone) SendMessage(account, target, text string) error {
	f.record("message %s %s %s", account, target, text)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.msgErr
}
func (f *fakePhone) Accounts() []string { return f.accounts }

var _ Phone = (*fakePhone)(nil)

// fakeHistory is a History in memory. It records what the UI asked of it.
type fakeHistory struct {
	mu      sync.Mutex
	convs   []Conversation
	threads map[string][]phone.Message // by peer as given
	calls   []CallRecord
	err     error
	asked   []string // "conversations", "thread sip:bob@example.org 200", "read sip:…", "calls 500"
}

func (h *fakeHistory) note(format string, a ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.asked = append(h.asked, fmt.Sprintf(format, a...))
}

func (h *fakeHistory) Asked() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.asked...)
}

func (h *fakeHistory) Conversations() ([]Conversation, error) {
	h.note("conversations")
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Conversation(nil), h.convs...), h.err
}

func (h *fakeHistory) Thread(peer string, limit int) ([]phone.Message, error) {
	h.note("thread %s %d", peer, limit)
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]phone.Message(nil), h.threads[peer]...), h.err
}

// MarkRead clears the unread count, as the store does.
func (h *fakeHistory) MarkRead(peer string) error {
	h.note("read %s", peer)
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.convs {
		if h.convs[i].Peer == peer {
			h.convs[i].Unread = 0
		}
	}
	return h.err
}

func (h *fakeHistory) Calls(limit int) ([]CallRecord, error) {
	h.note("calls %d", limit)
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]CallRecord(nil), h.calls...), h.err
}

var _ History = (*fakeHistory)(nil)

// t0 is the fixed "now" of every test, so timers and golden screens never move.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// driver runs Update synchronously and executes the commands it returns, feeding their
// messages back in, the way the Bubble Tea loop would, but in the test's goroutine.
type driver struct {
	t     *testing.T
	m     *Model
	ph    *fakePhone
	now   time.Time
	ticks int      // timer commands the model scheduled
	raw   []string // raw sequences written to the terminal
	quit  bool
}

func newDriver(t *testing.T, o Options) *driver {
	t.Helper()
	d := &driver{t: t, now: t0}
	if o.Phone == nil {
		d.ph = newFakePhone("office", "home")
		o.Phone = d.ph
	} else if fp, ok := o.Phone.(*fakePhone); ok {
		d.ph = fp
	}
	o.NoColor = true
	d.m = New(o)
	d.m.c.Now = func() time.Time { return d.now }
	// A scheduled tick is counted, not run: the test decides when time passes.
	d.m.after = func(time.Duration, func(time.Time) tea.Msg) tea.Cmd {
		d.ticks++
		return nil
	}
	d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	return d
}

// send delivers msg and runs the resulting commands to completion.
func (d *driver) send(msg tea.Msg) {
	d.t.Helper()
	queue := []tea.Msg{msg}
	for n := 0; len(queue) > 0; n++ {
		if n > 1000 {
			d.t.Fatal("message loop does not settle")
		}
		msg, queue = queue[0], queue[1:]
		switch msg := msg.(type) {
		case tea.BatchMsg:
			for _, c := range msg {
				queue = append(queue, d.run(c)...)
			}
			continue
		case tea.RawMsg:
			d.raw = append(d.raw, fmt.Sprint(msg.Msg))
		case tea.QuitMsg:
			d.quit = true
			continue
		}
		_, cmd := d.m.Update(msg)
		queue = append(queue, d.run(cmd)...)
	}
}

func (d *driver) run(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if msg == nil {
		return nil
	}
	return []tea.Msg{msg}
}

// exec runs a command the model returned (or built, like its History reads) and delivers
// what it produces.
func (d *driver) exec(cmd tea.Cmd) {
	d.t.Helper()
	for _, msg := range d.run(cmd) {
		d.send(msg)
	}
}

func (d *driver) keys(ks ...string) {
	d.t.Helper()
	for _, k := range ks {
		d.send(keyMsg(k))
	}
}

// keyMsg is the key press a test names (uitest.Key).
var keyMsg = uitest.Key

func (d *driver) typeText(s string) {
	d.t.Helper()
	for _, r := range s {
		d.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// screen is the current view without escape sequences.
func (d *driver) screen() string {
	return ansi.Strip(d.m.View().Content)
}

// Events the tests feed.

func snapshot(states ...phone.AccountStatus) phone.Snapshot {
	return phone.Snapshot{Time: t0, Accounts: states}
}

func registered(name, aor string) phone.AccountStatus {
	return phone.AccountStatus{Time: t0, Account: name, AOR: aor, State: phone.Registered, Code: 200, Reason: "OK", Expires: time.Hour}
}

func incoming(id string) phone.CallStatus {
	return phone.CallStatus{Time: t0, ID: id, Account: "office", Direction: phone.Incoming,
		Peer: "sip:bob@example.org", PeerName: "Bob", State: phone.CallIncoming, Started: t0}
}

func answered(id string, at time.Time) phone.CallStatus {
	s := incoming(id)
	s.State, s.Answered, s.Codec, s.Time = phone.CallAnswered, at, "PCMU", at
	return s
}

func ended(s phone.CallStatus, at time.Time, by string) phone.CallStatus {
	s.State, s.Ended, s.By, s.Time = phone.CallEnded, at, by, at
	return s
}

func received(peer, name, text string, at time.Time) phone.Message {
	return phone.Message{Time: at, Direction: phone.Incoming, Account: "office", Peer: peer, PeerName: name, Text: text, Status: "received"}
}

func sent(peer, text string, at time.Time, code int, reason string) phone.Message {
	m := phone.Message{Time: at, Direction: phone.Outgoing, Account: "office", Peer: peer, Text: text, Status: "sent", Code: code, Reason: reason}
	if code >= 300 || code == 0 {
		m.Status = "failed"
	}
	return m
}

func contains(t *testing.T, screen string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(screen, w) {
			t.Errorf("screen lacks %q:\n%s", w, screen)
		}
	}
}
