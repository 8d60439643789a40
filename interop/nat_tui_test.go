package interop

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/netlab"
	"github.com/dialtone/dialtone/interop/peers"
)

// startTmuxOn is startTmux with dialtone running inside host's network namespace.
func startTmuxOn(t *testing.T, host *netlab.Host, width, height int, env []string, args ...string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (make test installs it)")
	}
	s := &tmuxSession{t: t, socket: filepath.Join(t.TempDir(), "tmux.sock")}
	cmdline := "ip netns exec " + shellQuote(host.NS()) + " " + shellQuote(dialtoneBin)
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

// TestNATConeTUICallsWithoutSTUN: the full-screen phone behind a cone NAT, with no STUN
// server, registers (the registrar tells it its public address in Via received) and then
// calls a public baresip: the SDP carries the NAT's address, not the LAN's, and the tones of
// the sound devices (a private PulseAudio) cross both ways. This is the registered outgoing
// call that `dialtone call`, which never registers, cannot make without STUN.
func TestNATConeTUICallsWithoutSTUN(t *testing.T) {
	t.Parallel()
	start := time.Now()
	n := newNATNet(t, netlab.Cone, natTimeout)
	bob := peers.StartBaresip(t, peers.BaresipOptions{Host: n.far, IP: "203.0.113.20", User: "bob", Password: natUsers["bob"],
		Registrar: n.kam.HostPort("udp"), AutoAnswer: true, ToneHz: 1300})
	pa := peers.StartPulseAudio(t)
	speaker := filepath.Join(t.TempDir(), "speaker.wav")
	stopRec := pa.Record(t, speaker)
	pa.Play(t, makeTone(t, 700, 30, 8000))
	logf := filepath.Join(t.TempDir(), "tui.log")
	env := append(pa.Env(), natPW("alice")...)
	env = append(env, "XDG_CONFIG_HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir(), "TERM=xterm-256color")
	s := startTmuxOn(t, n.home, 120, 40, env, append(n.account("alice"), "--keepalive", natKeepalive,
		"--log-file", logf, "--log-level", "debug")...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- tui log ---\n%s", readIfAny(logf))
		}
	})
	s.waitScreen(`cli registered`, 20*time.Second)

	s.keys("d")
	s.text(bob.AOR())
	s.keys("Enter")
	s.waitScreen(`answered`, 15*time.Second)
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("baresip: %v\n%s", err, s.screen())
	}
	s.waitScreen(`answered +00:0[4-9]`, 10*time.Second) // the call itself: audio flows meanwhile
	s.keys("h")
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("h did not end the call: %v\n%s", err, s.screen())
	}
	stopRec()
	checkSDPAddress(t, bob.Log(), "192.0.2.10")
	assertToneFor(t, "the speaker played bob", speaker, 1300)
	assertBaresipHeard(t, bob, 700, 1)
	t.Logf("wall time %v", time.Since(start).Round(100*time.Millisecond))
}
