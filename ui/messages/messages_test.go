package messages

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
	"github.com/dialtone/dialtone/ui/styles"
)

var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func newModel() *Model {
	c := common.NewCommon(styles.New(true, true))
	c.Now = func() time.Time { return t0 }
	m := New(c)
	m.SetSize(70, 12)
	return m
}

func in(peer, text string, at time.Time) phone.Message {
	return phone.Message{Time: at, Direction: phone.Incoming, Peer: peer, Text: text, Status: "received"}
}

func TestWrapCountsCells(t *testing.T) {
	for _, c := range []struct {
		text string
		w    int
	}{
		{"Très bien ✓ merci ! On se voit à 18h ?", 12},
		{strings.Repeat("🙂", 30), 7},
		{"你好，世界！这是一条很长的消息", 9},
		{"👩‍💻🇫🇷👍🏽 e\u0301te\u0301", 3},
		{"a\nb\r\nc\x1b[2J", 5},
		{"", 5},
	} {
		lines := wrap(c.text, c.w)
		if len(lines) == 0 {
			t.Errorf("wrap(%q) gave no line", c.text)
		}
		for _, l := range lines {
			if lipgloss.Width(l) > c.w || strings.ContainsRune(l, '\x1b') {
				t.Errorf("wrap(%q, %d): line %q is %d cells", c.text, c.w, l, lipgloss.Width(l))
			}
		}
	}
	if got := wrap("a\nb", 10); len(got) != 2 {
		t.Errorf("line breaks in a message are kept: %q", got)
	}
}

// History is right about what it has; what this session saw and it lacks stays.
func TestHistoryMergesWithTheSession(t *testing.T) {
	m := newModel()
	bob, zoe := "sip:bob@example.org", "sip:zoe@example.com"
	m.Update(in(bob, "first", t0.Add(-time.Hour)))
	m.Update(in(zoe, "only this session", t0))
	// The store has Bob's message (and an older one), not Zoë's.
	m.SetConversations([]Conversation{{Peer: bob, Last: in(bob, "first", t0.Add(-time.Hour)), Unread: 2}})
	cs := m.Conversations()
	if len(cs) != 2 || cs[0].Peer != zoe || cs[1].Peer != bob || cs[1].Unread != 2 || cs[0].Unread != 1 {
		t.Fatalf("conversations %+v", cs)
	}
	m.SetThread(bob, []phone.Message{in(bob, "older", t0.Add(-2*time.Hour)), in(bob, "first", t0.Add(-time.Hour).Add(time.Microsecond))})
	th := m.Thread(bob)
	if len(th) != 2 || th[0].Text != "older" || th[1].Text != "first" {
		t.Errorf("thread %+v: the stored copy of a session message must not show twice", th)
	}
	// A message newer than the store's answer survives a reload that does not have it yet.
	m.Update(in(bob, "newer", t0.Add(time.Minute)))
	m.SetConversations([]Conversation{{Peer: bob, Last: in(bob, "first", t0.Add(-time.Hour)), Unread: 2}})
	if c := m.Conversations()[0]; c.Peer != bob || c.Last.Text != "newer" || c.Unread != 3 {
		t.Errorf("after a lagging reload: %+v", c)
	}
}

func TestViewFitsEveryWidth(t *testing.T) {
	m := newModel()
	m.SetFocused(true)
	m.Update(in("sip:bob@example.org", "Ça marche ✓ 🙂 "+strings.Repeat("中文", 40), t0))
	for _, open := range []bool{false, true} {
		if open {
			m.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
		}
		for w := 1; w <= 100; w++ {
			for _, h := range []int{1, 2, 3, 8} {
				m.SetSize(w, h)
				lines := strings.Split(m.View(), "\n")
				if len(lines) > h {
					t.Errorf("%dx%d open=%v: %d lines", w, h, open, len(lines))
				}
				for _, l := range lines {
					if lw := lipgloss.Width(l); lw > w {
						t.Errorf("%dx%d open=%v: line of %d cells: %q", w, h, open, lw, l)
					}
				}
			}
		}
	}
}

// TestLongPasteIsSaid: a paste longer than a message holds (in bytes) is cut to fit and the
// compose line says how much was cut; before, it was cut in silence and the shortened text sent.
func TestLongPasteIsSaid(t *testing.T) {
	m := newModel()
	m.SetSize(100, 12)
	m.SetFocused(true)
	m.Update(in("sip:bob@example.org", "hi", t0))
	m.Update(tea.KeyPressMsg{Code: tea.KeyEnter}) // open the conversation
	m.Update(tea.KeyPressMsg{Code: tea.KeyEnter}) // write in it
	m.Update(tea.PasteMsg{Content: strings.Repeat("щ", phone.MaxMessageBytes)})
	if got := m.ComposeValue(); len(got) != phone.MaxMessageBytes {
		t.Fatalf("the compose line holds %d bytes, want %d", len(got), phone.MaxMessageBytes)
	}
	if v := m.View(); !strings.Contains(v, "2048 characters cut") {
		t.Fatalf("nothing says the paste was cut:\n%s", v)
	}
}

// TestAMessageOnItsWayShowsOnce: History keeps a message being sent as pending; a thread read
// while it is on its way has that row beside the pane's own "sending" entry: shown once, and
// once its answer came, as the answer says (not as History's pending copy).
func TestAMessageOnItsWayShowsOnce(t *testing.T) {
	m := newModel()
	m.SetFocused(true)
	bob := "sip:bob@example.org"
	m.Update(in(bob, "hi", t0))
	m.Update(tea.KeyPressMsg{Code: tea.KeyEnter}) // open
	m.Update(tea.KeyPressMsg{Code: tea.KeyEnter}) // write
	m.Update(tea.PasteMsg{Content: "on its way"})
	if cmd := m.Update(tea.KeyPressMsg{Code: tea.KeyEnter}); cmd == nil {
		t.Fatal("enter sent nothing")
	}
	stored := phone.Message{Time: t0, Direction: phone.Outgoing, Peer: bob, Text: "on its way", Status: StatusPending}
	m.SetThread(bob, []phone.Message{in(bob, "hi", t0), stored})
	count := func() (n int, last phone.Message) {
		for _, x := range m.Thread(bob) {
			if x.Text == "on its way" {
				n, last = n+1, x
			}
		}
		return n, last
	}
	if n, _ := count(); n != 1 {
		t.Fatalf("on its way, shown %d times, want once", n)
	}
	m.Update(phone.Message{Time: t0, Direction: phone.Outgoing, Peer: bob, Text: "on its way", Status: "sent", Code: 200})
	m.SendDone(1, nil)
	if n, last := count(); n != 1 || last.Status != "sent" {
		t.Fatalf("answered: shown %d times, last as %q; want once, sent", n, last.Status)
	}
}
