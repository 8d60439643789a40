package ui

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dialtone/dialtone/phone"
)

func wantCalls(t *testing.T, ph *fakePhone, want ...string) {
	t.Helper()
	if got := ph.Calls(); !slices.Equal(got, want) {
		t.Errorf("phone commands = %q, want %q", got, want)
	}
}

func TestDialerDialsWhatWasTyped(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(snapshot(registered("office", "sip:alice@example.com"), registered("home", "sip:alice@home.example")))
	d.keys("d")
	if !d.m.dialer.Focused() {
		t.Fatal("d did not focus the dialer")
	}
	// Letters that are global keys elsewhere (a, h, q, r, m) are text in the dialer.
	d.typeText("sip:harry@example.com")
	d.keys("enter")
	wantCalls(t, d.ph, "dial office sip:harry@example.com")
	if d.m.dialer.Focused() {
		t.Error("the dialer kept the keyboard after dialling")
	}
	if d.quit {
		t.Error("q inside the dialer quit the program")
	}
	contains(t, d.screen(), "calling sip:harry@example.com")
}

func TestDialerBareNumberAndEcho(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(snapshot(phone.AccountStatus{Account: "office", State: phone.RegFailed}, registered("home", "sip:a@home.example")))
	// The first registered account is the default; the core completes the bare number.
	d.keys("d")
	d.typeText("1234")
	d.keys("enter")
	// echo is a direct call to the built-in echo test: no account.
	d.keys("d")
	d.typeText("echo")
	d.keys("enter")
	// ctrl+o picks the other account.
	d.keys("d")
	d.typeText("5678")
	d.keys("ctrl+o", "enter")
	wantCalls(t, d.ph, "dial home 1234", "dial  echo", "dial office 5678")
}

func TestDialerTabCompletesFromHistory(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(snapshot(registered("office", "sip:alice@example.com")))
	for _, target := range []string{"sip:bob@example.org", "sip:carol@example.org"} {
		d.keys("d")
		d.typeText(target)
		d.keys("enter")
	}
	d.keys("d")
	d.typeText("sip:b")
	d.keys("tab")
	if got := d.m.dialer.Value(); got != "sip:bob@example.org" {
		t.Errorf("after tab the dialer holds %q", got)
	}
	d.keys("esc")
	if d.m.dialer.Focused() {
		t.Error("esc did not leave the dialer")
	}
}

func TestDialErrorShown(t *testing.T) {
	d := newDriver(t, Options{})
	d.keys("d")
	d.typeText("bad")
	d.keys("enter")
	contains(t, d.screen(), `✗ dial bad: dial "bad": no host`)
}

func TestIncomingCallPromptAnswer(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(snapshot(registered("office", "sip:alice@example.com")))
	d.send(incoming("c1"))
	contains(t, d.screen(), "Incoming call on office", "Bob <bob@example.org>", "a answer", "r reject")
	if len(d.raw) != 1 {
		t.Fatalf("raw writes = %q, want one notification", d.raw)
	}
	for _, part := range []string{"\a", "\x1b]9;dialtone: Incoming call from Bob <bob@example.org>\a", "\x1b]777;notify;dialtone;Incoming call from Bob <bob@example.org>\a"} {
		if !strings.Contains(d.raw[0], part) {
			t.Errorf("notification %q lacks %q", d.raw[0], part)
		}
	}
	// A second status for the same ringing call does not ring again.
	d.send(incoming("c1"))
	if len(d.raw) != 1 {
		t.Errorf("rang %d times for one call", len(d.raw))
	}
	if d.m.View().WindowTitle != "dialtone: call from Bob <bob@example.org>" {
		t.Errorf("window title %q", d.m.View().WindowTitle)
	}
	d.keys("a")
	wantCalls(t, d.ph, "answer c1")
	d.send(answered("c1", t0))
	if strings.Contains(d.screen(), "Incoming call") {
		t.Error("the prompt stayed after the call was answered")
	}
}

// While the dialer has the keyboard, a and r are text: a call ringing mid-typing is not
// answered by the next letter.
func TestIncomingCallWhileDialling(t *testing.T) {
	d := newDriver(t, Options{})
	d.keys("d")
	d.typeText("al")
	d.send(incoming("c1"))
	contains(t, d.screen(), "esc leaves the dialer first")
	d.typeText("a")
	wantCalls(t, d.ph)
	d.keys("esc", "a")
	wantCalls(t, d.ph, "answer c1")
}

func TestIncomingCallReject(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(incoming("c7"))
	d.keys("r")
	wantCalls(t, d.ph, "reject c7 486")
	d.send(ended(incoming("c7"), t0, "local"))
	s := d.screen()
	if strings.Contains(s, "Incoming call") {
		t.Error("the prompt stayed after the call ended")
	}
	contains(t, s, "rejected")
}

func TestAnswerAndRejectNeedARingingCall(t *testing.T) {
	d := newDriver(t, Options{})
	d.keys("a", "r", "h", "m", "5")
	wantCalls(t, d.ph)
}

func TestHangupSelectedCall(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	d.send(answered("c2", t0))
	// The first call keeps the selection when another appears; ↓ selects the newer one.
	d.keys("h")
	d.keys("down", "h")
	wantCalls(t, d.ph, "hangup c1", "hangup c2")
}

func TestDTMFDuringAnsweredCall(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	d.keys("1", "#", "*")
	wantCalls(t, d.ph, "dtmf c1 1", "dtmf c1 #", "dtmf c1 *")
	contains(t, d.screen(), "sent 1#*")
}

func TestDTMFIsSerialised(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	// Take the first send's command without running it: the digits typed meanwhile queue.
	_, cmd := d.m.Update(keyMsg("1"))
	d.keys("2", "3")
	wantCalls(t, d.ph) // nothing sent yet: the first command has not run
	d.send(cmd())
	wantCalls(t, d.ph, "dtmf c1 1", "dtmf c1 23")
}

func TestDigitWithoutCallStartsDialling(t *testing.T) {
	d := newDriver(t, Options{})
	d.keys("0", "3")
	if !d.m.dialer.Focused() || d.m.dialer.Value() != "03" {
		t.Errorf("dialer focused=%v value=%q", d.m.dialer.Focused(), d.m.dialer.Value())
	}
	wantCalls(t, d.ph)
}

func TestMuteTogglesAndShowsErrors(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	d.keys("m")
	contains(t, d.screen(), "muted")
	d.keys("m")
	d.ph.muteErr = errors.New("not supported yet")
	d.keys("m")
	wantCalls(t, d.ph, "mute c1 true", "mute c1 false", "mute c1 true")
	contains(t, d.screen(), "✗ mute c1: not supported yet")
}

func TestQuitWithoutCallQuits(t *testing.T) {
	d := newDriver(t, Options{})
	d.keys("q")
	if !d.quit {
		t.Fatal("q did not quit")
	}
	if d.m.ctx.Err() == nil {
		t.Error("quitting left the subscription running")
	}
}

func TestQuitDuringCallAsks(t *testing.T) {
	for _, quitKey := range []string{"q", "ctrl+c"} {
		t.Run(quitKey, func(t *testing.T) {
			d := newDriver(t, Options{})
			d.send(answered("c1", t0))
			d.keys(quitKey)
			if d.quit {
				t.Fatal("quit without asking")
			}
			contains(t, d.screen(), "A call is in progress. Hang up and quit?")
			d.keys("x", "h") // neither yes nor no: still asking, nothing hung up
			d.keys("n")
			if d.quit || d.m.confirm.Active() {
				t.Fatalf("n: quit=%v asking=%v", d.quit, d.m.confirm.Active())
			}
			wantCalls(t, d.ph)
			d.keys(quitKey, "y")
			if !d.quit {
				t.Fatal("y did not quit")
			}
		})
	}
}

func TestCtrlCInDialerQuits(t *testing.T) {
	d := newDriver(t, Options{})
	d.keys("d", "ctrl+c")
	if !d.quit {
		t.Fatal("ctrl+c in the dialer did not quit")
	}
}

func TestSubscriptionClosedQuits(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(subClosedMsg{})
	if !d.quit {
		t.Fatal("the UI kept running after the phone stopped")
	}
}

func TestResizeReflows(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(snapshot(registered("office", "sip:alice@example.com"), registered("home", "sip:alice@home.example")))
	check := func(w, h int) []string {
		t.Helper()
		d.send(tea.WindowSizeMsg{Width: w, Height: h})
		lines := strings.Split(d.screen(), "\n")
		if len(lines) != h {
			t.Errorf("%dx%d: %d lines", w, h, len(lines))
		}
		for i, l := range lines {
			if n := len([]rune(l)); n > w {
				t.Errorf("%dx%d: line %d is %d wide: %q", w, h, i, n, l)
			}
		}
		return lines
	}
	narrow := check(80, 24)
	wide := check(140, 40)
	// Wide: the log sits beside calls and history, so one line holds two pane titles.
	if !strings.Contains(wide[2], "Calls") || !strings.Contains(wide[2], "Log") {
		t.Errorf("140 columns: calls and log not side by side: %q", wide[2])
	}
	if strings.Contains(narrow[2], "Log") {
		t.Errorf("80 columns: log beside calls: %q", narrow[2])
	}
	// Too narrow for both accounts on one line: the status bar wraps rather than cuts.
	small := check(44, 16)
	joined := strings.Join(small[:3], "\n")
	contains(t, joined, "office registered", "home registered")
}

func TestRegistrationFailureShowsReason(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(snapshot(registered("office", "sip:alice@example.com"), phone.AccountStatus{Account: "home", State: phone.Registering}))
	contains(t, d.screen(), "◌ home registering")
	d.send(phone.AccountStatus{Time: t0, Account: "home", State: phone.RegFailed, Code: 403, Reason: "Forbidden",
		Failure: phone.FailureAuth, RetryIn: 30 * time.Second})
	contains(t, d.screen(), "✗ home failed: 403 Forbidden (auth) next try 15:09:56")
	d.send(phone.AccountStatus{Time: t0, Account: "home", State: phone.RegFailed, Failure: phone.FailureNetwork,
		Err: errors.New("lookup home.example: no such host")})
	contains(t, d.screen(), "✗ home failed: lookup home.example: no such host (network) stopped")
}

func TestTimerTicksOnlyWhileAnswered(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(snapshot(registered("office", "sip:alice@example.com")))
	d.keys("tab", "shift+tab", "?", "?")
	if d.ticks != 0 {
		t.Fatalf("idle UI scheduled %d ticks", d.ticks)
	}
	d.send(incoming("c1"))
	if d.ticks != 0 {
		t.Fatalf("a ringing call scheduled %d ticks", d.ticks)
	}
	d.send(answered("c1", t0))
	if d.ticks != 1 {
		t.Fatalf("answering scheduled %d ticks, want 1", d.ticks)
	}
	contains(t, d.screen(), "00:00")
	// Other messages while a tick is pending do not schedule more.
	d.send(phone.MediaStats{CallID: "c1", Stats: phone.StreamStats{PacketsReceived: 99, Lost: 1, Jitter: 4 * time.Millisecond}})
	if d.ticks != 1 {
		t.Fatalf("%d ticks pending, want 1", d.ticks)
	}
	d.now = t0.Add(65 * time.Second)
	d.send(tickMsg(d.now))
	if d.ticks != 2 {
		t.Fatalf("a tick during an answered call was not re-armed (%d)", d.ticks)
	}
	contains(t, d.screen(), "01:05", "loss 1.0% jitter 4ms")
	d.send(ended(answered("c1", t0), d.now, "remote"))
	d.send(tickMsg(d.now))
	if d.ticks != 2 {
		t.Fatalf("ticking went on after the call ended (%d)", d.ticks)
	}
	contains(t, d.screen(), "answered", "01:05") // in the history
}

func TestInitSubscribesAndReadsEvents(t *testing.T) {
	ph := newFakePhone("office")
	m := New(Options{Phone: ph, NoColor: true})
	cmd := m.Init()
	if cmd == nil {
		t.Fatal("Init returned no command")
	}
	ph.events <- snapshot(registered("office", "sip:alice@example.com"))
	// NoColor: no background query, so the batch is the subscription read alone.
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		msg = b[0]()
	}
	em, ok := msg.(eventMsg)
	if !ok {
		t.Fatalf("Init's command gave %T", msg)
	}
	_, next := m.Update(em)
	if next == nil {
		t.Fatal("handling an event did not re-arm the subscription")
	}
	m.cancel()
	if _, ok := next().(subClosedMsg); !ok {
		t.Error("a closed subscription was not reported")
	}
}

func TestLogPane(t *testing.T) {
	logs := make(chan LogLine, 4)
	logs <- LogLine{Time: t0, Level: "INFO", Text: "registration account=office state=registered"}
	logs <- LogLine{Time: t0, Level: "DEBUG", Text: "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1\x1b[31m\r\n", SIP: true}
	close(logs) // so the re-armed read ends instead of blocking the test
	d := newDriver(t, Options{Logs: logs})
	d.send(waitLogs(logs)())
	s := d.screen()
	contains(t, s, "15:09:26 INF registration account=office", "SIP REGISTER sip:example.com SIP/2.0", "SIP Via: SIP/2.0/UDP 10.0.0.1�[31m")
	if strings.Contains(d.m.View().Content, "\x1b[31m") {
		t.Error("an escape sequence from a log line reached the terminal")
	}
	d.keys("tab", "tab", "tab", "s") // calls, messages, history, log
	s = d.screen()
	contains(t, s, "Log (SIP hidden)")
	if strings.Contains(s, "REGISTER") {
		t.Error("s did not hide the SIP trace")
	}
}

func TestHistoryRedial(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(snapshot(registered("office", "sip:alice@example.com")))
	d.keys("d")
	d.typeText("echo")
	d.keys("enter")
	out := phone.CallStatus{Time: t0, ID: "c1", Direction: phone.Outgoing, Peer: "sip:echo@127.0.0.1:5099", State: phone.CallCalling, Started: t0}
	d.send(out)
	d.send(ended(out, t0, "local"))
	in := incoming("c2")
	d.send(in)
	d.send(ended(in, t0, "remote"))
	contains(t, d.screen(), "cancelled", "missed")
	d.keys("tab", "tab") // messages, then history
	d.keys("enter")
	d.keys("down", "enter")
	// The missed call is the newest entry: call Bob back on the account he called. The echo
	// test is redialled as typed, not at the echo peer's old address.
	wantCalls(t, d.ph, "dial  echo", "dial office sip:bob@example.org", "dial  echo")
}

func TestFirstRunForm(t *testing.T) {
	var saved []NewAccount
	d := newDriver(t, Options{FirstRun: &FirstRunOptions{ConfigPath: "/home/a/.config/dialtone/config.toml",
		Save: func(a NewAccount) error { saved = append(saved, a); return nil }}})
	contains(t, d.screen(), "Add an account", "config.toml")
	d.typeText("work")
	d.keys("enter")
	d.typeText("sip:alice@example.com")
	d.keys("tab", "tab", "tab") // auth user and registrar stay empty
	d.send(tea.KeyPressMsg{Code: tea.KeyRight})
	d.send(tea.KeyPressMsg{Code: tea.KeyRight}) // transport: tls
	d.keys("tab")
	d.keys("enter") // password source stays "typed"
	d.keys("enter")
	contains(t, d.screen(), "say where the password comes from")
	d.typeText("s3cret q")
	if strings.Contains(d.screen(), "s3cret") {
		t.Error("the password is shown in clear")
	}
	d.keys("enter")
	want := NewAccount{Name: "work", AOR: "sip:alice@example.com", Transport: "tls", PasswordPlain: "s3cret q"}
	if len(saved) != 1 || saved[0] != want {
		t.Fatalf("saved %+v, want %+v", saved, want)
	}
	s := d.screen()
	if strings.Contains(s, "Add an account") {
		t.Error("the form stayed open after saving")
	}
	contains(t, s, "account work saved")
}

func TestFirstRunSkipAndSaveError(t *testing.T) {
	d := newDriver(t, Options{FirstRun: &FirstRunOptions{Save: func(NewAccount) error { return errors.New("permission denied") }}})
	d.typeText("work")
	d.keys("enter")
	d.typeText("alice@example.com")
	d.keys("enter", "enter", "enter", "enter")
	d.send(tea.KeyPressMsg{Code: tea.KeyRight}) // password from an environment variable
	d.keys("enter")
	d.typeText("DIALTONE_PASSWORD")
	d.keys("enter")
	contains(t, d.screen(), "could not save: permission denied")
	d.keys("q") // text in the form, not quit
	if d.quit {
		t.Fatal("q in the form quit")
	}
	d.keys("esc")
	contains(t, d.screen(), "no account configured: dial echo")
	d.keys("d")
	d.typeText("echo")
	d.keys("enter")
	wantCalls(t, d.ph, "dial  echo")
}

func TestHelpOverlay(t *testing.T) {
	d := newDriver(t, Options{})
	d.keys("?")
	contains(t, d.screen(), "Keys", "answer", "reject", "hang up", "mute", "DTMF", "next pane", "redial", "SIP trace", "quit")
	d.keys("a") // keys do nothing under the overlay
	d.keys("esc")
	if strings.Contains(d.screen(), "? or esc closes") {
		t.Error("esc did not close the help")
	}
}

// The help bar offers only what works now.
func TestHelpBarFollowsState(t *testing.T) {
	d := newDriver(t, Options{})
	bar := func() string { l := strings.Split(d.screen(), "\n"); return l[len(l)-1] }
	if b := bar(); strings.Contains(b, "answer") || strings.Contains(b, "hang up") {
		t.Errorf("idle help bar %q", b)
	}
	d.send(incoming("c1"))
	contains(t, bar(), "a answer", "r reject")
	d.keys("d")
	contains(t, bar(), "enter call", "tab complete", "esc leave")
}

func TestSmallTerminalsDoNotBreak(t *testing.T) {
	d := newDriver(t, Options{FirstRun: &FirstRunOptions{}})
	d.send(snapshot(registered("office", "sip:alice@example.com")))
	d.send(incoming("c1"))
	for _, sz := range [][2]int{{1, 1}, {10, 5}, {20, 8}, {40, 10}, {80, 24}} {
		d.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		_ = d.m.View()
	}
}

func TestHostileDisplayName(t *testing.T) {
	d := newDriver(t, Options{})
	c := incoming("c1")
	c.PeerName = "Mallory\x1b]52;c;ZWNobyBwd25lZA==\a\x1b[2J"
	d.send(c)
	if strings.Contains(d.m.View().Content, "\x1b]52") || strings.Contains(d.m.View().Content, "\x1b[2J") {
		t.Error("the caller's display name reached the terminal as escape sequences")
	}
	if len(d.raw) != 1 || strings.Count(d.raw[0], "\x1b") != 2 {
		t.Errorf("notification %q", d.raw)
	}
}

func TestAccountAddedWhileRunningCanBeChosen(t *testing.T) {
	d := newDriver(t, Options{Phone: newFakePhone()})
	d.send(snapshot())
	d.send(phone.AccountStatus{Time: t0, Account: "work", State: phone.Registered})
	d.keys("d")
	d.typeText("1000")
	d.keys("enter")
	wantCalls(t, d.ph, "dial work 1000")
}

// A voicemail report shows beside its account in the status bar and as a line in the log.
func TestVoicemailShown(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(snapshot(registered("office", "sip:alice@example.com")))
	d.send(phone.Voicemail{Time: t0, Account: "office", Waiting: true, Counted: true, New: 3, Old: 1, MessageAccount: "sip:*97@example.com"})
	contains(t, d.screen(), "office registered  ☎ 3 new voicemail")
	d.keys("tab", "tab", "tab") // calls, messages, history, log
	contains(t, d.screen(), "office: voicemail waiting: 3 new, 1 old")
}
