//go:build cgo && !noportaudio

package portaudio

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The device tests need no sound card: they run a private PulseAudio with two null sinks and
// let PortAudio reach it the way it does on a desktop, ALSA host API → ALSA "pulse" plugin
// (libasound2-plugins) → PulseAudio. The recipe, which works as root on a machine without
// /dev/snd:
//
//	dir=$(mktemp -d)
//	HOME=$dir XDG_RUNTIME_DIR=$dir XDG_CONFIG_HOME=$dir/config \
//	PULSE_RUNTIME_PATH=$dir PULSE_STATE_PATH=$dir/state \
//	pulseaudio --daemonize=no --system=false --exit-idle-time=-1 -n \
//	  --use-pid-file=no --disable-shm=yes --log-target=stderr \
//	  --load="module-native-protocol-unix socket=$dir/native auth-anonymous=1" \
//	  --load="module-null-sink sink_name=dt_play" \
//	  --load="module-null-sink sink_name=dt_capture" \
//	  --load="module-always-sink"
//
// plus $dir/.asoundrc = "pcm.!default { type pulse } ctl.!default { type pulse }" and, for
// the clients, PULSE_SERVER=unix:$dir/native with the same HOME and XDG variables. As root,
// PulseAudio only warns ("not intended to be run as root"); --system is not needed.
// auth-anonymous spares the clients the cookie, and -n keeps the distribution's default.pa
// (which would probe for real hardware) out. PULSE_SINK / PULSE_SOURCE then steer the
// plugin's default stream to dt_play / dt_capture.monitor.

// pulse is a running private PulseAudio.
type pulse struct {
	dir string
	log string // PulseAudio's own log file, shown when something fails
	pid int    // the server's, for its CPU time (BenchmarkDeviceCall)
}

// startPulse starts PulseAudio for one test and points this process's ALSA and libpulse at
// it (t.Setenv, so tests using it cannot run in parallel). It skips when PulseAudio or the
// ALSA pulse plugin is missing and fails, with PulseAudio's log, when it does not come up.
// The server is stopped (SIGTERM, then SIGKILL) at cleanup.
func startPulse(t testing.TB) *pulse {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a PulseAudio server; skipped in -short mode")
	}
	for _, tool := range []string{"pulseaudio", "pactl", "pacat"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (packages pulseaudio, pulseaudio-utils); the device tests need a private PulseAudio", tool)
		}
	}
	if !alsaPulsePlugin() {
		t.Skip("the ALSA pulse plugin (libasound_module_pcm_pulse.so, package libasound2-plugins) is not installed; PortAudio cannot reach PulseAudio without it")
	}
	// Short path: the socket path must fit in sockaddr_un (108 bytes).
	dir, err := os.MkdirTemp("", "dtpa")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &pulse{dir: dir, log: filepath.Join(dir, "pulseaudio.log")}
	asoundrc := "pcm.!default { type pulse }\nctl.!default { type pulse }\n"
	if err := os.WriteFile(filepath.Join(dir, ".asoundrc"), []byte(asoundrc), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"HOME":               dir,
		"XDG_RUNTIME_DIR":    dir,
		"XDG_CONFIG_HOME":    filepath.Join(dir, "config"),
		"PULSE_RUNTIME_PATH": dir,
		"PULSE_STATE_PATH":   filepath.Join(dir, "state"),
		"PULSE_SERVER":       "unix:" + filepath.Join(dir, "native"),
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command("pulseaudio", "--daemonize=no", "--system=false", "--exit-idle-time=-1", "-n",
		"--use-pid-file=no", "--disable-shm=yes", "--log-target=stderr",
		"--load=module-native-protocol-unix socket="+filepath.Join(dir, "native")+" auth-anonymous=1",
		"--load=module-null-sink sink_name=dt_play",
		"--load=module-null-sink sink_name=dt_capture",
		"--load=module-always-sink")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pulseaudio: %v", err)
	}
	p.pid = cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("pulseaudio exited during startup (%v); its log:\n%s", err, p.logText())
		default:
		}
		if _, err := p.run(t, 5*time.Second, "pactl", "info"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pulseaudio did not answer within 15 s; its log:\n%s", p.logText())
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.keepWarm(t, "dt_play.monitor")
	p.keepWarm(t, "dt_capture.monitor")
	return p
}

// keepWarm attaches a low-latency recorder to a null sink's monitor for the server's life and
// waits for its first data. A null sink with no latency request renders in 2 s blocks, and
// even after a client asks for less, the block already scheduled still runs out first: a
// stream opened on a fresh null sink hears nothing for up to 2 s and then gets a burst,
// which would overflow our 200 ms rings. Holding the latency low from the start avoids that;
// real sound cards behave like the warmed-up sink.
func (p *pulse) keepWarm(t testing.TB, source string) {
	t.Helper()
	var got atomic.Int64
	cmd := exec.Command("parec", "--device="+source, "--latency-msec=10", "--format=s16le", "--rate=8000", "--channels=1")
	cmd.Stdout = countWriter{&got}
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	for deadline := time.Now().Add(10 * time.Second); got.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("no audio from %s within 10 s; pulseaudio log:\n%s", source, p.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type countWriter struct{ n *atomic.Int64 }

func (w countWriter) Write(b []byte) (int, error) {
	w.n.Add(int64(len(b)))
	return len(b), nil
}

// dieWithTest has the kernel kill cmd if the test binary dies first (a crash, a timeout
// panic), when no cleanup runs: no PulseAudio is left behind.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

func (p *pulse) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// run runs a PulseAudio client tool to completion with a timeout.
func (p *pulse) run(t testing.TB, timeout time.Duration, name string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	dieWithTest(cmd)
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			err = fmt.Errorf("%s %v: %w: %s", name, args, err, ee.Stderr)
		}
	}
	return out, err
}

// alsaPulsePlugin reports whether ALSA's pulse PCM plugin is installed where ALSA looks.
func alsaPulsePlugin() bool {
	for _, pattern := range []string{
		"/usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so",
		"/usr/lib/alsa-lib/libasound_module_pcm_pulse.so",
		"/usr/lib64/alsa-lib/libasound_module_pcm_pulse.so",
	} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			return true
		}
	}
	return false
}
