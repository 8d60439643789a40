package interop

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// midcallUsers adds a third user, so two baresips can call the TUI at once.
var midcallUsers = map[string]string{"alice": users["alice"], "bob": users["bob"], "carol": "carol-secret"}

// TestTUIMidCall drives the real binary in tmux against Kamailio and two baresips, with real
// PortAudio devices on a private PulseAudio: H holds the call (dialtone's re-INVITE offers
// sendonly, baresip answers recvonly and the screen says holding), space resumes it; bob's own
// hold shows as held with a notice, and his resume as answered again; carol
// calls while bob is answered: the prompt says "Call waiting" and the speaker beeps at 440 Hz
// (recorded from PulseAudio, found by the Goertzel detector), a answers and holds bob, x swaps
// back, h hangs up bob alone; D turns do-not-disturb on and carol's next call is refused 486.
func TestTUIMidCall(t *testing.T) {
	t.Parallel()
	pa := peers.StartPulseAudio(t)
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: midcallUsers})
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: midcallUsers["bob"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 700})
	carol := peers.StartBaresip(t, peers.BaresipOptions{User: "carol", Password: midcallUsers["carol"], Registrar: k.HostPort("udp"), ToneHz: 1500})
	trace := filepath.Join(t.TempDir(), "trace.txt")
	logf := filepath.Join(t.TempDir(), "tui.log")
	env := append(pa.Env(), "DIALTONE_PASSWORD="+midcallUsers["alice"], "XDG_CONFIG_HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir(), "TERM=xterm-256color")
	s := startTmux(t, 120, 40, env, "--aor", "sip:alice@127.0.0.1", "--registrar", "sip:"+k.HostPort("udp"),
		"--log-file", logf, "--sip-trace", trace)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- tui log ---\n%s\n--- bob ---\n%s\n--- carol ---\n%s", readIfAny(logf), bob.Log(), carol.Log())
		}
	})
	s.waitScreen(`cli registered`, 20*time.Second)
	pa.Play(t, makeTone(t, 1100, 60, 8000))

	// Hold and resume.
	s.keys("d")
	s.text("sip:bob@127.0.0.1")
	s.keys("Enter")
	s.waitScreen(`answered +00:0[1-9]`, 15*time.Second)
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 5*time.Second); err != nil {
		t.Fatalf("baresip: %v", err)
	}
	s.keys("H")
	waitCalls(s, `bob@127\.0\.0\.1[^\n]*holding`, 10*time.Second)
	// baresip got the re-INVITE offering sendonly and answered recvonly (its log has both).
	waitTrace(t, trace, "a=recvonly", 1, 5*time.Second)
	if bl := bob.Log(); !strings.Contains(bl, "call: got re-INVITE") || !strings.Contains(bl, "a=sendonly") || !strings.Contains(bl, "a=recvonly") {
		t.Fatalf("baresip's log shows no hold re-INVITE answered recvonly:\n%s", bl)
	}
	invites := strings.Count(readFile(t, trace), "\nINVITE sip:")
	s.keys("Space")
	waitCalls(s, `bob@127\.0\.0\.1[^\n]*answered`, 10*time.Second)
	waitTrace(t, trace, "\nINVITE sip:", invites+1, 5*time.Second) // the resume's re-INVITE

	// bob holds us: the row says held (not holding) and a notice names him; his resume
	// brings the call back.
	if _, err := bob.Command("hold", ""); err != nil {
		t.Fatal(err)
	}
	waitCalls(s, `bob@127\.0\.0\.1[^\n]* held `, 10*time.Second)
	s.waitScreen(`bob@127\.0\.0\.1 put the call on hold`, 5*time.Second)
	if _, err := bob.Command("resume", ""); err != nil {
		t.Fatal(err)
	}
	waitCalls(s, `bob@127\.0\.0\.1[^\n]*answered`, 10*time.Second)
	s.waitScreen(`bob@127\.0\.0\.1 took the call off hold`, 5*time.Second)

	// Call waiting: carol calls while bob is answered. The speaker beeps while she rings.
	quiet := filepath.Join(t.TempDir(), "quiet.wav")
	stop := pa.Record(t, quiet)
	time.Sleep(2 * time.Second)
	stop()
	ringing := filepath.Join(t.TempDir(), "ringing.wav")
	if err := carol.Dial("sip:alice@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	s.waitScreen(`Call waiting`, 15*time.Second)
	stop = pa.Record(t, ringing)
	time.Sleep(4 * time.Second) // beeps at 0 s and 3 s
	stop()
	if secs := toneSeconds(t, quiet, 440); secs > 0.05 {
		t.Errorf("the speaker played 440 Hz for %.2f s with no call waiting", secs)
	}
	if secs := toneSeconds(t, ringing, 440); secs < 0.25 {
		t.Errorf("the call-waiting beep (440 Hz) played for %.2f s in 4 s of ringing, want two 0.3 s beeps", secs)
	}
	assertToneFor(t, "the speaker kept playing bob during the beeps", ringing, 700)

	// a answers carol; the core holds bob.
	s.keys("a")
	if _, err := carol.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("a did not answer the waiting call: %v\n%s", err, s.screen())
	}
	waitCalls(s, `(?s)bob@127\.0\.0\.1[^\n]*holding.*carol@127\.0\.0\.1[^\n]*answered`, 10*time.Second)
	// x swaps: bob talks again, carol waits on hold.
	s.keys("x")
	waitCalls(s, `(?s)bob@127\.0\.0\.1[^\n]*answered.*carol@127\.0\.0\.1[^\n]*holding`, 10*time.Second)
	// h hangs up the selected call (bob, the one swapped to); carol stays.
	s.keys("h")
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("h did not end bob's call: %v\n%s", err, s.screen())
	}
	s.waitScreen(`Calls \(1\)`, 5*time.Second)
	if evs := carol.Events(); hasEvent(evs, "CALL_CLOSED") {
		t.Fatalf("hanging up bob ended carol's call too\n%s", s.screen())
	}
	s.keys("h")
	if _, err := carol.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("h did not end carol's call: %v\n%s", err, s.screen())
	}

	// Do not disturb: carol's next call is refused 486 and never rings.
	s.keys("D")
	s.waitScreen(`do not disturb`, 5*time.Second)
	if err := carol.Dial("sip:alice@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	ev, err := carol.WaitEvent("CALL_CLOSED", 10*time.Second)
	if err != nil || !strings.Contains(ev.Param, "486") {
		t.Fatalf("with DND on carol saw %+v (%v), want the call closed with 486\n%s", ev, err, s.screen())
	}
	if strings.Contains(s.screen(), "Incoming call") {
		t.Fatalf("a call rang with DND on\n%s", s.screen())
	}
	s.keys("D")
	s.waitScreen(`do not disturb off`, 5*time.Second)
}

// waitTrace waits until the SIP trace holds at least n copies of what.
func waitTrace(t *testing.T, path, what string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(path)
		if strings.Count(string(b), what) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the SIP trace has %d of %q, want %d", strings.Count(string(b), what), what, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func hasEvent(evs []peers.BaresipEvent, typ string) bool {
	for _, e := range evs {
		if e.Type == typ {
			return true
		}
	}
	return false
}

// startTransferRig starts the TUI (alice, PortAudio on a private PulseAudio) registered at
// Kamailio beside two auto-answering baresips, bob (700 Hz) and carol (1500 Hz); their logs are
// printed if the test fails.
func startTransferRig(t *testing.T) (*tmuxSession, *peers.Baresip, *peers.Baresip) {
	t.Helper()
	pa := peers.StartPulseAudio(t)
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: midcallUsers})
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: midcallUsers["bob"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 700})
	carol := peers.StartBaresip(t, peers.BaresipOptions{User: "carol", Password: midcallUsers["carol"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 1500})
	logf := filepath.Join(t.TempDir(), "tui.log")
	env := append(pa.Env(), "DIALTONE_PASSWORD="+midcallUsers["alice"], "XDG_CONFIG_HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir(), "TERM=xterm-256color")
	s := startTmux(t, 120, 40, env, "--aor", "sip:alice@127.0.0.1", "--registrar", "sip:"+k.HostPort("udp"), "--log-file", logf)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- tui log ---\n%s\n--- bob ---\n%s\n--- carol ---\n%s", readIfAny(logf), bob.Log(), carol.Log())
		}
	})
	return s, bob, carol
}

// TestTUIBlindTransfer: alice (the TUI) talks to bob, presses T, types carol's address and
// Enter: bob gets the REFER, calls carol, the screen follows the NOTIFY progress to
// "transferred (200 OK)" and alice's call ends; bob and carol then hear each other's tones.
func TestTUIBlindTransfer(t *testing.T) {
	t.Parallel()
	s, bob, carol := startTransferRig(t)
	s.waitScreen(`cli registered`, 20*time.Second)
	s.keys("d")
	s.text("sip:bob@127.0.0.1")
	s.keys("Enter")
	s.waitScreen(`answered +00:0[1-9]`, 15*time.Second)
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 5*time.Second); err != nil {
		t.Fatalf("baresip: %v", err)
	}
	s.keys("T")
	s.waitScreen(`Transfer bob@127\.0\.0\.1 to`, 5*time.Second)
	s.text("sip:carol@127.0.0.1")
	s.keys("Enter")
	s.waitScreen(`transferred \(200`, 20*time.Second)
	s.waitScreen(`No calls`, 10*time.Second) // the core hangs up after the 200 NOTIFY
	if _, err := carol.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("bob never reached carol: %v\n%s", err, s.screen())
	}
	time.Sleep(4 * time.Second) // bob and carol talk
	if err := carol.Hangup(); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	assertBaresipHeard(t, carol, 700, 1) // carol heard bob
	if !strings.Contains(bob.Log(), "REFER sip:") {
		t.Error("bob's SIP log shows no REFER")
	}
}

// TestTUIAttendedTransfer: alice talks to bob, dials carol (bob goes on hold by itself),
// selects bob, presses T and picks carol's call with ↓, Enter: bob gets a REFER whose
// Refer-To carries Replaces for alice's call with carol, calls carol, and alice's call with
// bob ends after the 200 NOTIFY. baresip 1.0 does not honour Replaces (carol takes bob's
// INVITE as a second call), so alice hangs up her call with carol herself.
func TestTUIAttendedTransfer(t *testing.T) {
	t.Parallel()
	s, bob, carol := startTransferRig(t)
	s.waitScreen(`cli registered`, 20*time.Second)
	s.keys("d")
	s.text("sip:bob@127.0.0.1")
	s.keys("Enter")
	s.waitScreen(`answered +00:0[1-9]`, 15*time.Second)
	s.keys("d")
	s.text("sip:carol@127.0.0.1")
	s.keys("Enter")
	waitCalls(s, `(?s)bob@127\.0\.0\.1[^\n]*holding.*carol@127\.0\.0\.1[^\n]*answered`, 15*time.Second)
	if _, err := carol.WaitEvent("CALL_ESTABLISHED", 5*time.Second); err != nil {
		t.Fatalf("carol: %v", err)
	}
	s.keys("Up", "T", "Down")
	s.waitScreen(`Transfer bob@127\.0\.0\.1 to ⇄ carol@127\.0\.0\.1 \(attended\)`, 5*time.Second)
	s.keys("Enter")
	ev, err := bob.WaitEvent("TRANSFER", 10*time.Second)
	if err != nil || !strings.Contains(ev.Param, "Replaces") {
		t.Fatalf("bob's transfer event %+v (%v), want a Refer-To with Replaces\n%s", ev, err, s.screen())
	}
	s.waitScreen(`transferred \(200`, 20*time.Second)
	s.waitScreen(`Calls \(1\)`, 10*time.Second) // bob's call ended after the 200 NOTIFY
	if pane := callsPane(s.screen()); strings.Contains(pane, "bob@") || !strings.Contains(pane, "carol@") {
		t.Fatalf("after the transfer the calls pane is\n%s\nwant carol's call only", pane)
	}
	// carol has bob's call now (baresip 1.0 shows it as a second incoming call).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		n := 0
		for _, e := range carol.Events() {
			if e.Type == "CALL_ESTABLISHED" && strings.Contains(e.PeerURI, "bob@") {
				n++
			}
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bob's transferred call never reached carol: %+v", carol.Events())
		}
	}
	s.keys("h") // alice's own call with carol
	s.waitScreen(`No calls`, 10*time.Second)
}

// callsPane is the inside of the calls pane of a screen (the history and log panes name the
// same peers, so the whole screen would not do).
func callsPane(screen string) string {
	var out []string
	in := false
	for _, l := range strings.Split(screen, "\n") {
		switch {
		case strings.Contains(l, "━ Calls"):
			in = true
		case in && strings.Contains(l, "┗━"):
			return strings.Join(out, "\n")
		case in:
			// Only what is inside the pane's borders: the log pane may sit beside it.
			if _, rest, ok := strings.Cut(l, "┃"); ok {
				l, _, _ = strings.Cut(rest, "┃")
			}
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// waitCalls waits until the calls pane matches re.
func waitCalls(s *tmuxSession, re string, timeout time.Duration) {
	s.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	for {
		pane := callsPane(s.screen())
		if rx.MatchString(pane) {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the calls pane never matched %q within %v; last:\n%s", re, timeout, pane)
		}
		time.Sleep(150 * time.Millisecond)
	}
}
