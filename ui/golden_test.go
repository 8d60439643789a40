package ui

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"github.com/dialtone/dialtone/phone"
)

// TestGoldenScreens runs the real Bubble Tea program at 80x24 and 120x40 and compares the
// final screen with testdata/TestGoldenScreens/*.golden. Run with -update to rewrite them
// after an intended change.
//
// Determinism: the clock is fixed (t0), the timer never fires, events are sent with
// Program.Send (the same FIFO as Quit, so all are handled before the program ends), and the
// screen is compared without escape sequences. The program runs with the NoTTY colour profile
// (tea.WithColorProfile; otherwise Bubble Tea detects it from the output and the environment).
func TestGoldenScreens(t *testing.T) {
	failed := phone.AccountStatus{Time: t0, Account: "home", AOR: "sip:alice@home.example", State: phone.RegFailed,
		Code: 403, Reason: "Forbidden", Failure: phone.FailureAuth, RetryIn: 30 * time.Second}
	accounts := []phone.Event{snapshot(registered("office", "sip:alice@example.com"), failed)}
	logs := []tea.Msg{
		LogLine{Time: t0.Add(-2 * time.Second), Level: "INFO", Text: "registration account=office state=registered code=200"},
		LogLine{Time: t0.Add(-time.Second), Level: "WARN", Text: "registration account=home state=registration_failed code=403"},
	}
	talking := answered("c1", t0.Add(-83*time.Second))
	// A wideband call protected by SRTP: the pane shows the codec with its rate, and a lock.
	talking.Codec, talking.CodecRate, talking.SRTP = "G722", 16000, "AES_CM_128_HMAC_SHA1_80"
	carolRings := incoming("c2")
	carolRings.Peer, carolRings.PeerName = "sip:carol@example.com", "Carol"
	carolTalks := answered("c2", t0.Add(-20*time.Second))
	carolTalks.Peer, carolTalks.PeerName = carolRings.Peer, carolRings.PeerName
	// Messages: a conversation with Bob (opened, a reply being written), an unread one from
	// Zoë from yesterday, and a failed message to Carol; accents, ✓ and emoji throughout.
	bob := "sip:bob@example.org"
	chat := []tea.Msg{
		received("sip:zoe@example.com", "Zoë ✓", "Tu as reçu le rapport ? 📄", t0.Add(-26*time.Hour)),
		received(bob, "Bob", "Bonjour Alice, ça va ? 🙂", t0.Add(-50*time.Minute)),
		sent(bob, "Très bien ✓ merci ! On se voit à 18h ?", t0.Add(-48*time.Minute), 200, "OK"),
		sent("sip:carol@example.com", "Réunion déplacée à 15h", t0.Add(-20*time.Minute), 404, "Not Found"),
		received(bob, "Bob", "Oui, à 18h 👍 Je prends le vélo, il fait beau — et toi, tu viens en tram ou à pied depuis la gare ?", t0.Add(-5*time.Minute)),
		keyMsg("t"), keyMsg("enter"), // t highlights the newest unread conversation, enter opens it
	}
	for _, r := range "J'arrive ✓ 🚲" {
		chat = append(chat, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	scenarios := []struct {
		name     string
		events   []tea.Msg
		raw      string // must reach the terminal before the screen is taken
		contacts []Contact
	}{
		{name: "idle", events: append(asMsgs(accounts), logs...)},
		{name: "incoming", events: append(append(asMsgs(accounts), logs...), incoming("c1")), raw: "\x1b]777;notify;dialtone;Incoming call from Bob <bob@example.org>\a"},
		{name: "answered", events: append(append(asMsgs(accounts), logs...),
			talking,
			// Five reports, 5 s apart: the calls pane shows the last MOS and sparklines of loss
			// and jitter under the call.
			stats("c1", 3140, 0, 2, 4.36, 90.7), stats("c1", 3389, 1, 3, 4.33, 89.4), stats("c1", 3636, 4, 11, 4.10, 82.6),
			stats("c1", 3886, 4, 4, 4.36, 90.7),
			phone.MediaStats{Time: t0, CallID: "c1", Account: "office", Stats: phone.StreamStats{PacketsSent: 4150, PacketsReceived: 4140, Lost: 9, Jitter: 6 * time.Millisecond,
				RTT: 42 * time.Millisecond, MOS: 4.21, R: 86}},
			phone.DTMFReceived{Time: t0, CallID: "c1", Digit: '5'},
			ended(phone.CallStatus{Time: t0, ID: "c0", Account: "office", Direction: phone.Outgoing, Peer: "sip:carol@example.com",
				State: phone.CallRinging, Started: t0.Add(-5 * time.Minute), Code: 486, Reason: "Busy Here", Failure: phone.FailureBusy}, t0.Add(-4*time.Minute), "remote"),
		)},
		// A second call rings while one is answered; then the user transfers Bob to Carol.
		{name: "waiting", events: append(append(asMsgs(accounts), logs...), talking, carolRings)},
		{name: "transfer", events: append(append(asMsgs(accounts), logs...), talking, carolTalks,
			keyMsg("up"), keyMsg("T"), keyMsg("down"))},
		{name: "messages", events: append(append(asMsgs(accounts), logs...), chat...),
			raw: "\x1b]777;notify;dialtone;Message from Bob <bob@example.org>: Oui, à 18h 👍"},
		// The address book: typing part of a name in the dialer offers the contact's address.
		{name: "contacts", events: append(append(asMsgs(accounts), logs...), keyMsg("d"), keyMsg("m"), keyMsg("a"), keyMsg("r")),
			contacts: []Contact{{Name: "Bob Dupont", URI: "sip:bob@example.org"}, {Name: "Zoë Martin", URI: "sip:zoe@example.com"}}},
	}
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		for _, sc := range scenarios {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				m := New(Options{Phone: newFakePhone("office", "home"), NoColor: true, Version: "v0.3.0", Contacts: sc.contacts})
				m.c.Now = func() time.Time { return t0 }
				m.after = func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil }
				h := startProgram(t, m, size[0], size[1])
				for _, ev := range sc.events {
					h.p.Send(ev)
				}
				if sc.raw != "" {
					h.waitFor(t, sc.raw)
				}
				final := h.quit(t)
				if h.out.Len() == 0 {
					t.Error("the program wrote nothing to the terminal")
				}
				requireGolden(t, ansi.Strip(final.View().Content))
			})
		}
	}
}

func asMsgs(evs []phone.Event) []tea.Msg {
	out := make([]tea.Msg, len(evs))
	for i, e := range evs {
		out[i] = e
	}
	return out
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// requireGolden compares a screen with testdata/<test name>.golden.
func requireGolden(t *testing.T, got string) {
	t.Helper()
	path := filepath.Join("testdata", t.Name()+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		var diff strings.Builder
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				fmt.Fprintf(&diff, "line %d:\n  want %q\n  got  %q\n", i+1, w, g)
			}
		}
		t.Errorf("screen differs from %s:\n%s\ngot:\n%s", path, diff.String(), got)
	}
}

// harness runs a tea.Program the way teatest does (no TTY, fixed size, output in a buffer).
// teatest/v2 and x/exp/golden cannot be imported: a go mod tidy dropped teatest from go.mod
// before anything used it, and golden needs go-udiff in go.mod. This is the part of both
// these tests need.
type harness struct {
	p    *tea.Program
	out  *syncBuffer
	done chan tea.Model
}

func startProgram(t *testing.T, m tea.Model, w, h int) *harness {
	t.Helper()
	hs := &harness{out: &syncBuffer{}, done: make(chan tea.Model, 1)}
	hs.p = tea.NewProgram(m,
		tea.WithInput(nil), // no keyboard: the test sends messages
		tea.WithOutput(hs.out),
		tea.WithoutSignals(),
		tea.WithWindowSize(w, h),
		tea.WithColorProfile(colorprofile.NoTTY),
	)
	go func() {
		final, err := hs.p.Run()
		if err != nil {
			t.Errorf("program: %v", err)
		}
		hs.done <- final
	}()
	hs.p.Send(tea.WindowSizeMsg{Width: w, Height: h})
	t.Cleanup(hs.p.Kill)
	return hs
}

// waitFor waits until s has been written to the terminal.
func (h *harness) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !bytes.Contains(h.out.Bytes(), []byte(s)) {
		if time.Now().After(deadline) {
			t.Fatalf("%q never reached the terminal; output: %q", s, h.out.Bytes())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// quit stops the program and returns its final model.
func (h *harness) quit(t *testing.T) *Model {
	t.Helper()
	h.p.Quit()
	select {
	case m := <-h.done:
		return m.(*Model)
	case <-time.After(5 * time.Second):
		t.Fatal("the program did not quit")
		return nil
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// stats is a media report for the goldens: cumulative packets received and lost, jitter in ms,
// and the core's MOS and R for the window.
func stats(id string, received, lost uint64, jitterMs int, mos, r float64) phone.MediaStats {
	return phone.MediaStats{Time: t0, CallID: id, Account: "office", Stats: phone.StreamStats{PacketsSent: received + 10,
		PacketsReceived: received, Lost: lost, Jitter: time.Duration(jitterMs) * time.Millisecond, MOS: mos, R: r}}
}
