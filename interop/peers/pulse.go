package peers

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// A private PulseAudio lets the interop tests run dialtone with real PortAudio devices on a
// machine without a sound card: PortAudio's ALSA host API → ALSA "pulse" plugin
// (libasound2-plugins) → PulseAudio with two null sinks,
//
//	dt_play     the speaker: dialtone plays into it, Record taps dt_play.monitor;
//	dt_capture  the microphone: Play feeds it, dialtone records dt_capture.monitor.
//
// It is the recipe of audio/portaudio/pulse_linux_test.go, with the environment handed to
// child processes instead of set on the test process, so tests may run in parallel, each
// with its own server. It works as root (PulseAudio only warns); -n keeps the distribution's
// default.pa (which probes for hardware) out and auth-anonymous spares clients the cookie.

const (
	pulseStartTimeout = 15 * time.Second
	pulseToolTimeout  = 5 * time.Second
	pulseStopTimeout  = 5 * time.Second
	pulseRecordRate   = 16000 // Record's WAV: mono s16le at this rate
)

// PulseAudio is a running private PulseAudio server.
type PulseAudio struct {
	dir     string
	logFile string
	env     []string
}

// StartPulseAudio starts a private PulseAudio for the test, with the null sinks dt_play and
// dt_capture kept "warm" (see keepWarm). It skips the test when pulseaudio, parec, parecord,
// paplay, pactl or the ALSA pulse plugin is missing, fails it with the server's log when the
// server does not answer within 15 s, and stops the server and every process started
// through it at cleanup.
func StartPulseAudio(t testing.TB) *PulseAudio {
	t.Helper()
	for _, tool := range []string{"pulseaudio", "pactl", "parec", "parecord", "paplay"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (packages pulseaudio, pulseaudio-utils); the device tests need a private PulseAudio", tool)
		}
	}
	if !alsaPulsePlugin() {
		t.Skip("the ALSA pulse plugin (libasound_module_pcm_pulse.so, package libasound2-plugins) is not installed; PortAudio cannot reach PulseAudio without it")
	}
	// Not t.TempDir: the socket path must fit in sockaddr_un (108 bytes).
	dir, err := os.MkdirTemp("", "dtpa")
	if err != nil {
		t.Fatalf("peers: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) }) // runs last: registered first
	p := &PulseAudio{dir: dir, logFile: filepath.Join(dir, "pulseaudio.log")}
	p.env = []string{
		"HOME=" + dir, // ALSA reads $HOME/.asoundrc
		"XDG_RUNTIME_DIR=" + dir,
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"PULSE_RUNTIME_PATH=" + dir,
		"PULSE_STATE_PATH=" + filepath.Join(dir, "state"),
		"PULSE_SERVER=unix:" + filepath.Join(dir, "native"),
	}
	asoundrc := "pcm.!default { type pulse }\nctl.!default { type pulse }\n"
	if err := os.WriteFile(filepath.Join(dir, ".asoundrc"), []byte(asoundrc), 0o644); err != nil {
		t.Fatalf("peers: %v", err)
	}
	logf, err := os.Create(p.logFile)
	if err != nil {
		t.Fatalf("peers: %v", err)
	}
	defer logf.Close() // the child has its own copy
	cmd := p.command("pulseaudio", "--daemonize=no", "--system=false", "--exit-idle-time=-1", "-n",
		"--use-pid-file=no", "--disable-shm=yes", "--log-target=stderr",
		"--load=module-native-protocol-unix socket="+filepath.Join(dir, "native")+" auth-anonymous=1",
		"--load=module-null-sink sink_name=dt_play",
		"--load=module-null-sink sink_name=dt_capture",
		"--load=module-always-sink")
	cmd.Stdout, cmd.Stderr = logf, logf
	server := p.start(t, cmd, syscall.SIGTERM)
	deadline := time.Now().Add(pulseStartTimeout)
	for {
		select {
		case <-server.done:
			t.Fatalf("peers: pulseaudio exited during start-up (%v); its log:\n%s", server.err, p.Log())
		default:
		}
		if _, err := p.run("pactl", "info"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("peers: pulseaudio did not answer within %v; its log:\n%s", pulseStartTimeout, p.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.keepWarm(t, "dt_play.monitor", "dt_capture.monitor")
	return p
}

// Env is the environment a client process needs (append it to os.Environ()): the server,
// HOME with the .asoundrc routing ALSA's default device to PulseAudio, and PULSE_SINK /
// PULSE_SOURCE so that the default devices are dt_play and dt_capture's monitor.
func (p *PulseAudio) Env() []string {
	return append(append([]string(nil), p.env...), "PULSE_SINK=dt_play", "PULSE_SOURCE=dt_capture.monitor")
}

// Log returns what the server has logged so far.
func (p *PulseAudio) Log() string {
	b, err := os.ReadFile(p.logFile)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", p.logFile, err)
	}
	return string(b)
}

// Play plays a sound file into dt_capture (what the client hears as its microphone), in the
// background; it is stopped at cleanup if still playing. It fails the test if paplay cannot
// start or exits with an error within the first 200 ms (e.g. an unreadable file).
func (p *PulseAudio) Play(t testing.TB, wavPath string) {
	t.Helper()
	var stderr bytes.Buffer
	cmd := p.command("paplay", "--device=dt_capture", "--latency-msec=20", wavPath)
	cmd.Stderr = &stderr
	pr := p.start(t, cmd, syscall.SIGKILL)
	select {
	case <-pr.done:
		if pr.err != nil {
			t.Fatalf("peers: paplay %s: %v: %s", wavPath, pr.err, stderr.Bytes())
		}
	case <-time.After(200 * time.Millisecond):
	}
}

// Record records dt_play's monitor (what the client plays to its speaker) into path, a mono
// 16-bit WAV at 16 kHz, until stop is called (or cleanup, if it never is). stop waits for
// parecord to exit, which is when the WAV header gets its final sizes, and fails the test
// if the file is not a complete WAV; calling it again is a no-op.
func (p *PulseAudio) Record(t testing.TB, path string) (stop func()) {
	t.Helper()
	var stderr bytes.Buffer
	cmd := p.command("parecord", "--device=dt_play.monitor", "--latency-msec=20", "--file-format=wav",
		"--format=s16le", fmt.Sprintf("--rate=%d", pulseRecordRate), "--channels=1", path)
	cmd.Stderr = &stderr
	// SIGINT: parecord drains the stream and closes the file, writing the header.
	pr := p.start(t, cmd, syscall.SIGINT)
	var once sync.Once
	stop = func() {
		once.Do(func() {
			if !pr.stop() {
				t.Errorf("peers: parecord did not stop within %v on SIGINT; killed, %s may be truncated", pulseStopTimeout, path)
				return
			}
			if err := checkWAVSizes(path); err != nil {
				t.Errorf("peers: parecord left %s unfinished (%v, exit %v): %s", path, err, pr.err, stderr.Bytes())
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// keepWarm attaches a low-latency recorder to each null sink monitor for the server's life
// and waits for their first data. A null sink with no latency request renders in 2 s blocks,
// and even after a client asks for less, the block already scheduled runs out first: a
// stream opened on a fresh null sink hears nothing for up to 2 s and then gets a burst,
// which would overflow dialtone's 200 ms rings. Holding the latency low from the start
// avoids that; real sound cards behave like the warmed-up sink. The sinks' first blocks run
// out together, so this costs about 2 s however many sources there are.
func (p *PulseAudio) keepWarm(t testing.TB, sources ...string) {
	t.Helper()
	got := make([]atomic.Int64, len(sources))
	procs := make([]*pulseProc, len(sources))
	for i, source := range sources {
		cmd := p.command("parec", "--device="+source, "--latency-msec=10", "--format=s16le", "--rate=8000", "--channels=1")
		cmd.Stdout = countWriter{&got[i]}
		procs[i] = p.start(t, cmd, syscall.SIGKILL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for i, source := range sources {
		for got[i].Load() == 0 {
			select {
			case <-procs[i].done:
				t.Fatalf("peers: parec %s exited: %v; pulseaudio log:\n%s", source, procs[i].err, p.Log())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("peers: no audio from %s within 10 s; pulseaudio log:\n%s", source, p.Log())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

type countWriter struct{ n *atomic.Int64 }

func (w countWriter) Write(b []byte) (int, error) {
	w.n.Add(int64(len(b)))
	return len(b), nil
}

// command prepares a PulseAudio tool with the server's environment. Pdeathsig has the kernel
// kill it if the test binary dies before any cleanup runs (a crash, a timeout panic).
func (p *PulseAudio) command(name string, args ...string) *exec.Cmd {
	return p.commandContext(context.Background(), name, args...)
}

func (p *PulseAudio) commandContext(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), p.env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// pulseProc is a started process and its exit.
type pulseProc struct {
	cmd  *exec.Cmd
	sig  syscall.Signal // what asks it to stop
	done chan struct{}  // closed once reaped; err is set then
	err  error
}

// start starts cmd and registers its stop with t.Cleanup. Cleanups run last-in first-out,
// so every client is gone before the server it talks to.
func (p *PulseAudio) start(t testing.TB, cmd *exec.Cmd, sig syscall.Signal) *pulseProc {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatalf("peers: start %s: %v", cmd.Path, err)
	}
	pr := &pulseProc{cmd: cmd, sig: sig, done: make(chan struct{})}
	go func() { pr.err = cmd.Wait(); close(pr.done) }()
	t.Cleanup(func() { pr.stop() })
	return pr
}

// stop sends the process its stop signal and waits for it, killing it after 5 s. It reports
// whether the process ended without being killed.
func (pr *pulseProc) stop() bool {
	select {
	case <-pr.done:
		return true
	default:
	}
	pr.cmd.Process.Signal(pr.sig)
	select {
	case <-pr.done:
		return true
	case <-time.After(pulseStopTimeout):
		pr.cmd.Process.Kill()
		<-pr.done
		return pr.sig == syscall.SIGKILL
	}
}

// run runs a PulseAudio client tool (pactl, ...) to completion within 5 s.
func (p *PulseAudio) run(name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), pulseToolTimeout)
	defer cancel()
	cmd := p.commandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %v: %w: %s", name, args, err, stderr.Bytes())
	}
	return out, nil
}

// checkWAVSizes checks that a RIFF/WAVE file's RIFF size matches the file's length, which
// parecord (libsndfile) only writes when it closes the file.
func checkWAVSizes(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var hdr [12]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return fmt.Errorf("reading header: %w", err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return fmt.Errorf("not a RIFF/WAVE file")
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if riff := int64(binary.LittleEndian.Uint32(hdr[4:8])); riff+8 != st.Size() {
		return fmt.Errorf("RIFF size %d + 8 != file size %d", riff, st.Size())
	}
	return nil
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
