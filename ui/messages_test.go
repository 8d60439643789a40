package ui

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/charmbracelet/x/ansi"
	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
)

const bobURI = "sip:bob@example.org"

func wantAsked(t *testing.T, h *fakeHistory, want ...string) {
	t.Helper()
	asked := h.Asked()
	for _, w := range want {
		if !slices.Contains(asked, w) {
			t.Errorf("History was not asked %q; asked %q", w, asked)
		}
	}
}

func count(h *fakeHistory, what string) int {
	n := 0
	for _, a := range h.Asked() {
		if a == what {
			n++
		}
	}
	return n
}

func TestMessageArrivesCountsUnreadAndNotifies(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(snapshot(registered("office", "sip:alice@example.com")))
	d.send(received(bobURI, "Bob", "Bonjour 🙂", t0))
	contains(t, d.screen(), "Messages (1 unread)", "✉ 1 unread", "Bob  ← Bonjour 🙂", "●1")
	if len(d.raw) != 1 {
		t.Fatalf("raw writes = %q, want one notification", d.raw)
	}
	for _, part := range []string{"\a", "\x1b]9;dialtone: Message from Bob <bob@example.org>: Bonjour 🙂\a",
		"\x1b]777;notify;dialtone;Message from Bob <bob@example.org>: Bonjour 🙂\a"} {
		if !strings.Contains(d.raw[0], part) {
			t.Errorf("notification %q lacks %q", d.raw[0], part)
		}
	}
	d.send(received("<sip:Zoe@Example.COM;transport=tcp>", "Zoë", "Tu viens ?", t0.Add(time.Minute)))
	d.send(received(bobURI, "Bob", "Allô ?", t0.Add(2*time.Minute)))
	if len(d.raw) != 3 {
		t.Errorf("%d notifications for 3 messages", len(d.raw))
	}
	s := d.screen()
	contains(t, s, "Messages (3 unread)", "✉ 3 unread", "●2", "Zoë  ← Tu viens ?")
	cs := d.m.messages.Conversations()
	if len(cs) != 2 || cs[0].Peer != bobURI || cs[0].Unread != 2 || cs[1].Unread != 1 {
		t.Errorf("conversations %+v, want Bob (2 unread) then Zoë (1)", cs)
	}
	if got := d.m.View().WindowTitle; got != "dialtone (3 unread)" {
		t.Errorf("window title %q", got)
	}
	// A message of ours, sent from elsewhere, is no news.
	d.send(sent("sip:Zoe@example.com", "Oui", t0.Add(3*time.Minute), 200, "OK"))
	if len(d.raw) != 3 || d.m.messages.Unread() != 3 {
		t.Errorf("a sent message notified or counted: %d raw, %d unread", len(d.raw), d.m.messages.Unread())
	}
	if cs := d.m.messages.Conversations(); len(cs) != 2 || cs[0].Peer != "<sip:Zoe@Example.COM;transport=tcp>" {
		t.Errorf("the same peer spelled differently made another conversation: %+v", cs)
	}
}

func TestOpeningAConversationReadsIt(t *testing.T) {
	h := &fakeHistory{
		convs:   []Conversation{{Peer: bobURI, Last: received(bobURI, "", "Tu es là ?", t0.Add(-time.Minute)), Unread: 2}},
		threads: map[string][]phone.Message{bobURI: {received(bobURI, "", "Salut", t0.Add(-2*time.Minute)), received(bobURI, "", "Tu es là ?", t0.Add(-time.Minute))}},
	}
	d := newDriver(t, Options{History: h})
	d.exec(d.m.loadHistory())
	wantAsked(t, h, "conversations", "calls 500", "thread sip:bob@example.org 200")
	s := d.screen()
	contains(t, s, "Messages (2 unread)", "✉ 2 unread", "15:07 ← Salut", "15:08 ← Tu es là ?")
	if len(d.raw) != 0 {
		t.Errorf("start-up notified: %q", d.raw)
	}

	d.keys("t", "enter")
	wantAsked(t, h, "read sip:bob@example.org")
	s = d.screen()
	if strings.Contains(s, "unread") {
		t.Errorf("opening the conversation left it unread:\n%s", s)
	}
	contains(t, s, "enter send", "esc leave")

	// While it is open in front of the user, a new message is read at once and rings nothing.
	h.convs[0].Last = received(bobURI, "Bob", "Ah, te voilà", t0)
	h.threads[bobURI] = append(h.threads[bobURI], received(bobURI, "Bob", "Ah, te voilà", t0))
	d.send(received(bobURI, "Bob", "Ah, te voilà", t0))
	if len(d.raw) != 0 {
		t.Errorf("a message in the open conversation notified: %q", d.raw)
	}
	if n := count(h, "read sip:bob@example.org"); n != 2 {
		t.Errorf("marked read %d times, want 2 (opening, then the new message)", n)
	}
	contains(t, d.screen(), "15:09 ← Ah, te voilà")
	if d.m.messages.Unread() != 0 {
		t.Errorf("%d unread", d.m.messages.Unread())
	}

	// Closed, the conversation counts and rings again.
	d.keys("esc")
	h.convs[0].Unread = 1
	d.send(received(bobURI, "Bob", "Bon, à plus", t0))
	if len(d.raw) != 1 {
		t.Errorf("%d notifications after leaving the conversation, want 1", len(d.raw))
	}
	contains(t, d.screen(), "Messages (1 unread)")
}

// Session-only (no History): opening clears the count all the same.
func TestOpeningWithoutHistory(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(received(bobURI, "Bob", "Salut", t0))
	d.keys("t", "enter")
	if d.m.messages.Unread() != 0 || !d.m.messages.Writing() {
		t.Errorf("unread %d, writing %v", d.m.messages.Unread(), d.m.messages.Writing())
	}
	d.send(received(bobURI, "Bob", "Ça va ?", t0))
	if len(d.raw) != 1 || d.m.messages.Unread() != 0 {
		t.Errorf("open conversation: %d notifications, %d unread", len(d.raw), d.m.messages.Unread())
	}
}

// Enter hands the text to a command: SendMessage blocks until the far end answers, so it must
// never run inside Update. Meanwhile the message shows as sending.
func TestSendMessageRunsInACommand(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(snapshot(registered("office", "sip:alice@example.com"), registered("home", "sip:alice@home.example")))
	d.send(received(bobURI, "Bob", "Ça va ?", t0))
	d.keys("t", "enter")
	d.typeText("Très bien ✓ 🙂")
	_, cmd := d.m.Update(keyMsg("enter"))
	wantCalls(t, d.ph)
	if cmd == nil {
		t.Fatal("enter returned no command")
	}
	_, send := d.m.Update(cmd()) // the pane's request
	wantCalls(t, d.ph)
	s := d.screen()
	contains(t, s, "→ Très bien ✓ 🙂", "… sending", "sending message to bob@example.org…")
	if d.m.messages.ComposeValue() != "" {
		t.Errorf("the compose line kept %q", d.m.messages.ComposeValue())
	}
	result := send() // what the Bubble Tea runtime does in a goroutine
	wantCalls(t, d.ph, "message office sip:bob@example.org Très bien ✓ 🙂")
	d.send(result)
	contains(t, d.screen(), "✓ sent", "message to bob@example.org sent")
	// The core's event for the same message replaces the entry rather than adding one.
	d.send(sent(bobURI, "Très bien ✓ 🙂", t0, 200, "OK"))
	if n := strings.Count(d.screen(), "15:09 → Très bien"); n != 1 {
		t.Errorf("the sent message shows %d times:\n%s", n, d.screen())
	}
	// ctrl+o switches the account, as in the dialer.
	d.keys("ctrl+o")
	d.typeText("Et toi ?")
	d.keys("enter")
	wantCalls(t, d.ph, "message office sip:bob@example.org Très bien ✓ 🙂", "message home sip:bob@example.org Et toi ?")
}

func TestFailedSendShowsWhy(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(received(bobURI, "Bob", "Ça va ?", t0))
	d.ph.msgErr = &phone.Error{Op: "message sip:bob@example.org", Code: 404, Reason: "Not Found", Failure: phone.FailureNotFound}
	d.keys("t", "enter")
	d.typeText("Tu es là ?")
	// The core's event may come before the command's answer: one entry either way.
	_, cmd := d.m.Update(keyMsg("enter"))
	_, send := d.m.Update(cmd())
	result := send()
	d.send(sent(bobURI, "Tu es là ?", t0, 404, "Not Found"))
	d.send(result)
	s := d.screen()
	contains(t, s, "✗ failed (404)", "404 Not Found", "✗ message to bob@example.org: message sip:bob@example.org: 404 Not Found")
	if n := strings.Count(s, "15:09 → Tu es là ?"); n != 1 {
		t.Errorf("the failed message shows %d times:\n%s", n, s)
	}
	// A failure before anything was sent (no event follows) stays on screen too.
	d.ph.msgErr = errors.New("the phone is not running")
	d.typeText("Allô")
	d.keys("enter")
	contains(t, d.screen(), "→ Allô", "✗ failed", "the phone is not running")
}

func TestNewConversation(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(snapshot(registered("office", "sip:alice@example.com")))
	d.keys("t", "n")
	contains(t, d.screen(), "To ❯", "New message")
	d.typeText("1234")
	d.keys("enter")
	d.typeText("hi")
	d.keys("enter")
	wantCalls(t, d.ph, "message office 1234 hi")
	// The core completed the number with the account's domain: the conversation is that
	// address's, and stays open.
	d.send(sent("sip:1234@example.com", "hi", t0, 200, "OK"))
	if got := d.m.messages.CurrentPeer(); got != "sip:1234@example.com" || !d.m.messages.Writing() {
		t.Errorf("open conversation %q (writing %v)", got, d.m.messages.Writing())
	}
	s := d.screen()
	contains(t, s, "1234@example.com", "→ hi", "✓ sent")
	if n := strings.Count(s, "15:09 → hi"); n != 1 {
		t.Errorf("the message shows %d times:\n%s", n, s)
	}
	d.typeText("again")
	d.keys("enter")
	wantCalls(t, d.ph, "message office 1234 hi", "message office sip:1234@example.com again")
	// esc leaves the line; another esc is nothing special, and q quits again.
	d.keys("esc")
	if d.m.messages.Typing() {
		t.Error("esc did not leave the compose line")
	}
	d.keys("n", "esc")
	if d.m.messages.Typing() {
		t.Error("esc did not cancel the new conversation")
	}
}

// q, a, h, digits are text while a message is written; an incoming call says how to get out.
func TestComposeOwnsTheKeyboard(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(received(bobURI, "Bob", "?", t0))
	d.keys("t", "enter")
	d.send(incoming("c1"))
	contains(t, d.screen(), "esc leaves the message first")
	d.typeText("qah 12")
	wantCalls(t, d.ph)
	if d.quit || d.m.messages.ComposeValue() != "qah 12" {
		t.Errorf("quit %v, compose %q", d.quit, d.m.messages.ComposeValue())
	}
	d.keys("esc", "a")
	wantCalls(t, d.ph, "answer c1")
	d.keys("t", "enter", "ctrl+c")
	if d.quit {
		t.Error("ctrl+c during a call quit without asking")
	}
	contains(t, d.screen(), "Hang up and quit?")
}

func TestHistoryPaneShowsPastCalls(t *testing.T) {
	h := &fakeHistory{calls: []CallRecord{
		{Peer: "sip:erin@example.net", Direction: "outgoing", Account: "home", Start: t0.Add(-2 * time.Hour), Answered: true, Duration: 95 * time.Second, Code: 200, By: "local"},
		{Peer: "sip:dave@example.net", PeerName: "Dave", Direction: "incoming", Account: "office", Start: t0.Add(-26 * time.Hour), By: "remote"},
		{Peer: "sip:frank@example.net", Direction: "outgoing", Account: "office", Start: t0.Add(-30 * time.Hour), Code: 486, Reason: "Busy Here", By: "remote"},
	}}
	d := newDriver(t, Options{History: h})
	d.exec(d.m.loadHistory())
	d.keys("tab", "tab") // history
	s := d.screen()
	contains(t, s, "erin@example.net", "answered", "01:35", "13:09", "Dave <dave@example.net>", "missed", "Mar 13",
		"frank@example.net", "busy (486)")
	if strings.Contains(s, "No calls yet") {
		t.Error("the history pane says there are no calls")
	}
	d.keys("enter")
	wantCalls(t, d.ph, "dial home sip:erin@example.net")

	// A call of this session ends: it shows once, though History now has it too.
	h.calls = append([]CallRecord{{Peer: bobURI, PeerName: "Bob", Direction: "incoming", Account: "office", Start: t0, By: "remote"}}, h.calls...)
	c := incoming("c9")
	d.send(c)
	d.send(ended(c, t0, "remote"))
	if n := count(h, "calls 500"); n != 2 {
		t.Errorf("History.Calls read %d times, want 2 (start-up, call end)", n)
	}
	es := d.m.history.Entries()
	if len(es) != 4 || es[0].CallID != "c9" {
		t.Errorf("history entries %+v, want the session's call first and no duplicate", es)
	}
	if n := strings.Count(d.screen(), "Bob <bob@example.org>"); n != 1 {
		t.Errorf("the session's call shows %d times", n)
	}
}

func TestHistoryErrorsAreShown(t *testing.T) {
	h := &fakeHistory{err: errors.New("database is locked")}
	d := newDriver(t, Options{History: h})
	d.exec(d.m.loadHistory())
	contains(t, d.screen(), "✗ history: database is locked")
}

// Reads answer in any order: only the latest request's answer counts.
func TestStaleHistoryAnswersAreDropped(t *testing.T) {
	h := &fakeHistory{convs: []Conversation{{Peer: "sip:old@example.org", Unread: 5}}}
	d := newDriver(t, Options{History: h})
	older := d.m.loadConversations()
	oldAnswer := older()
	h.convs = []Conversation{{Peer: bobURI, Unread: 1}}
	d.exec(d.m.loadConversations())
	d.send(oldAnswer)
	if cs := d.m.messages.Conversations(); len(cs) != 1 || cs[0].Peer != bobURI {
		t.Errorf("a stale answer replaced a newer one: %+v", cs)
	}
}

// Accents, ✓, emoji (wide, joined, flags), CJK and combining marks: the screen keeps its size
// at every width, in the list, the conversation and the compose line.
func TestUTF8KeepsTheLayout(t *testing.T) {
	texts := []string{
		"Ça marche ✓ — à demain 🙂",
		"你好，世界！这是一条很长的消息，用来测试换行是否正确处理宽字符。",
		"👩‍💻🇫🇷👍🏽 e\u0301te\u0301 naïve façade ❤️ 1️⃣",
		strings.Repeat("🙂", 80),
		"line one\nline two\r\nline three\tand a tab \x1b[31m",
	}
	d := newDriver(t, Options{})
	d.send(snapshot(registered("office", "sip:alice@example.com")))
	for i, tx := range texts {
		d.send(received(bobURI, "Bób ✓ 🙂", tx, t0.Add(time.Duration(i)*time.Minute)))
		d.send(received("sip:李@example.cn", "李小龙", tx, t0.Add(time.Duration(i)*time.Minute)))
	}
	d.send(sent(bobURI, texts[1], t0, 488, "Not Acceptable Here ✗"))
	check := func(name string) {
		t.Helper()
		for _, sz := range [][2]int{{80, 24}, {120, 40}, {100, 30}, {64, 20}, {50, 16}, {30, 10}} {
			d.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			v := d.m.View().Content
			if strings.Contains(v, "\x1b[31m") {
				t.Errorf("%s: an escape sequence from a message reached the terminal", name)
			}
			lines := strings.Split(d.screen(), "\n")
			if len(lines) != sz[1] {
				t.Errorf("%s %dx%d: %d lines", name, sz[0], sz[1], len(lines))
			}
			for i, l := range lines {
				if w := lipgloss.Width(l); w > sz[0] {
					t.Errorf("%s %dx%d: line %d is %d cells: %q", name, sz[0], sz[1], i, w, l)
				}
				// As a terminal without mode 2027 draws it, code point by code point (Bubble
				// Tea's renderer measures so until the terminal reports the mode): the same,
				// neither wider (a ZWJ sequence, a skin tone) nor narrower (❤️).
				if wc := ansi.StringWidthWc(l); wc != lipgloss.Width(l) {
					t.Errorf("%s %dx%d: line %d is %d cells, %d drawn code point by code point: %q", name, sz[0], sz[1], i,
						lipgloss.Width(l), wc, l)
				}
			}
		}
	}
	check("list")
	d.keys("t", "enter")
	d.typeText("Réponse ✓ avec 🙂🙂🙂 et 中文字符 " + strings.Repeat("é", 100))
	check("writing")
	d.keys("pgup", "pgup", "up")
	check("scrolled")
}

// TestJoinedEmojiAfterMode2027: a caller's display name with a ZWJ sequence is drawn by its
// first code point while the terminal has not reported mode 2027, and whole once it has.
func TestJoinedEmojiAfterMode2027(t *testing.T) {
	t.Cleanup(func() { common.SetFit(false) })
	d := newDriver(t, Options{})
	d.send(snapshot(registered("office", "sip:alice@example.com")))
	call := incoming("c1")
	call.PeerName = "Dev 👩‍💻 ❤️"
	d.send(call)
	if scr := d.screen(); strings.Contains(scr, "👩‍💻") || !strings.Contains(scr, "Dev 👩 ❤") {
		t.Fatalf("before mode 2027 the name is not drawn by first code points:\n%s", scr)
	}
	d.send(tea.ModeReportMsg{Mode: ansi.ModeUnicodeCore, Value: ansi.ModeReset})
	d.send(call) // redrawn
	if scr := d.screen(); !strings.Contains(scr, "Dev 👩‍💻 ❤️") {
		t.Fatalf("mode 2027 reported, yet the name is not drawn whole:\n%s", scr)
	}
}

func TestHelpListsMessageKeys(t *testing.T) {
	d := newDriver(t, Options{})
	d.keys("?")
	contains(t, d.screen(), "messages", "new message", "send", "scroll up")
	d.keys("esc")
	d.send(received(bobURI, "Bob", "Salut", t0))
	bar := func() string { l := strings.Split(d.screen(), "\n"); return l[len(l)-1] }
	contains(t, bar(), "t messages")
	d.keys("t")
	contains(t, bar(), "enter open / write", "n new message")
}

func TestSplitFillsTheScreen(t *testing.T) {
	for _, c := range []struct {
		total   int
		weights []int
		want    []int
	}{
		{15, []int{1, 1, 1}, []int{5, 5, 5}},
		{15, []int{3, 1, 1}, []int{9, 3, 3}},
		{7, []int{1, 3, 1}, []int{0, 7, 0}},
		{24, []int{3, 2}, []int{15, 9}},
		{0, []int{1, 1}, []int{0, 0}},
	} {
		if got := split(c.total, c.weights); !slices.Equal(got, c.want) {
			t.Errorf("split(%d, %v) = %v, want %v", c.total, c.weights, got, c.want)
		}
	}
}

// The UI reads History through the interface the caller adapts; it never opens the store.
func TestUINeverImportsTheStore(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list; skipped in -short mode")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/dialtone/dialtone/ui/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/dialtone/dialtone/phone/store") || strings.HasPrefix(dep, "modernc.org/sqlite") {
			t.Errorf("the UI depends on %s", dep)
		}
	}
}
