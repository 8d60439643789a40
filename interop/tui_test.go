package interop

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// tmuxSession runs one program in a private tmux server, as a person at a terminal would.
type tmuxSession struct {
	t      *testing.T
	socket string
}

func startTmux(t *testing.T, width, height int, env []string, args ...string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (make test installs it)")
	}
	s := &tmuxSession{t: t, socket: filepath.Join(t.TempDir(), "tmux.sock")}
	cmdline := dialtoneBin
	for _, a := range args {
		cmdline += " " + shellQuote(a)
	}
	var envs []string
	for _, e := range env {
		envs = append(envs, shellQuote(e))
	}
	shell := fmt.Sprintf("env %s %s 2>%s; echo EXITED=$? >%s; sleep 60", strings.Join(envs, " "), cmdline,
		filepath.Join(t.TempDir(), "stderr"), s.exitFile())
	s.run("new-session", "-d", "-s", "dt", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), shell)
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", s.socket, "kill-server").Run() })
	return s
}

func (s *tmuxSession) exitFile() string { return s.socket + ".exit" }

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) screen() string { return s.run("capture-pane", "-p", "-t", "dt") }

// keys sends tmux key names (Enter, Escape, q, ...); text types literally.
func (s *tmuxSession) keys(k ...string) { s.run(append([]string{"send-keys", "-t", "dt"}, k...)...) }
func (s *tmuxSession) text(x string)    { s.run("send-keys", "-t", "dt", "-l", x) }

// waitScreen waits until the screen matches re.
func (s *tmuxSession) waitScreen(re string, timeout time.Duration) string {
	s.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		last = s.screen()
		if rx.MatchString(last) {
			return last
		}
		time.Sleep(150 * time.Millisecond)
	}
	s.t.Fatalf("screen never matched %q within %v; last screen:\n%s", re, timeout, last)
	return ""
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestTUIEndToEnd drives the real binary in tmux against Kamailio and baresip, with real
// PortAudio devices on a private PulseAudio: registered, dial, talk (the timer runs), hang up,
// take an incoming call with a, reject one with r, resize, quit; Kamailio loses the binding.
func TestTUIEndToEnd(t *testing.T) {
	t.Parallel()
	pa := peers.StartPulseAudio(t)
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 700,
		Contacts: []string{"sip:alice@127.0.0.1"}})
	env := append(pa.Env(), "DIALTONE_PASSWORD="+users["alice"], "XDG_CONFIG_HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir(), "TERM=xterm-256color")
	s := startTmux(t, 120, 40, env, "--aor", "sip:alice@127.0.0.1", "--registrar", "sip:"+k.HostPort("udp"),
		"--log-file", filepath.Join(t.TempDir(), "tui.log"))
	s.waitScreen(`cli registered`, 20*time.Second)

	// Dial bob, see the call answered and the timer run, hang up with h. The microphone (the
	// capture sink) carries a 1100 Hz tone, which must reach baresip.
	pa.Play(t, makeTone(t, 1100, 30, 8000))
	s.keys("d")
	s.text("sip:bob@127.0.0.1")
	s.keys("Enter")
	s.waitScreen(`answered`, 15*time.Second)
	// The call's own timer, right after its state: a bare mm:ss would also match the time of
	// day in the history pane (CI once ran at 00:06 and matched "00:06" there).
	s.waitScreen(`answered +00:0[2-9]`, 10*time.Second)
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 5*time.Second); err != nil {
		t.Fatalf("baresip: %v", err)
	}
	s.keys("h") // after Enter the dialer hands the keyboard back to the calls
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("h did not end the call at baresip: %v\n%s", err, s.screen())
	}
	if secs := toneSeconds(t, lastRecording(t, bob), 1100); secs < 1 {
		t.Fatalf("the microphone's tone reached baresip for %.2f s, want at least 1 s", secs)
	}

	// bob calls: the prompt appears, a answers.
	if err := bob.Dial("sip:alice@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	s.waitScreen(`Incoming call`, 15*time.Second)
	s.keys("a")
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("a did not answer: %v\n%s", err, s.screen())
	}
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatal(err)
	}

	// bob calls again: r rejects.
	if err := bob.Dial("sip:alice@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	s.waitScreen(`Incoming call`, 15*time.Second)
	s.keys("r")
	ev, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second)
	if err != nil || !strings.Contains(ev.Param, "486") {
		t.Fatalf("r: baresip saw %+v (%v), want the call closed with 486\n%s", ev, err, s.screen())
	}

	// bob sends a message: it shows in the messages pane. alice answers from the TUI: t, n,
	// the address, Enter, the text, Enter; baresip shows it.
	if _, err := bob.Command("contact_next", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Command("message", "ça va? ✓"); err != nil {
		t.Fatal(err)
	}
	s.waitScreen(`ça va\? ✓`, 10*time.Second)
	s.keys("t")
	s.keys("n")
	s.text("sip:bob@127.0.0.1")
	s.keys("Enter")
	s.text("très bien ✓")
	s.keys("Enter")
	s.waitScreen(`✓ sent`, 10*time.Second)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(bob.Log(), "très bien ✓"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("baresip did not get the TUI's message\n%s", s.screen())
		}
	}
	s.keys("Escape")
	time.Sleep(200 * time.Millisecond) // a lone Esc, not the start of an Alt chord

	// Resize to the smallest supported size: it reflows and still shows the account.
	s.run("resize-window", "-t", "dt", "-x", "80", "-y", "24")
	s.waitScreen(`cli registered`, 5*time.Second)

	// q quits (no call is active, so no question), unregisters, restores the terminal.
	s.keys("q")
	deadline := time.Now().Add(15 * time.Second)
	for {
		if out, _ := exec.Command("cat", s.exitFile()).Output(); strings.Contains(string(out), "EXITED=") {
			if !strings.Contains(string(out), "EXITED=0") {
				t.Fatalf("dialtone exited with %s", out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("q did not quit\n%s", s.screen())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if cs, err := k.Contacts("sip:alice@127.0.0.1"); err != nil || len(cs) != 0 {
		t.Fatalf("alice still bound after quitting: %v %v", cs, err)
	}
}
