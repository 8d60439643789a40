//go:build cgo && !noportaudio

package portaudio

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio"
)

// These tests run against the private PulseAudio of startPulse. The machine may run them
// slower than real time, so they check what was heard, never how long it took.

func newTestBackend(t *testing.T) *Backend {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := New(log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Backend.Close: %v", err)
		}
	})
	return b
}

func TestDevicesUnderPulse(t *testing.T) {
	startPulse(t)
	b := newTestBackend(t)
	devs, err := b.Devices()
	if err != nil {
		t.Fatal(err)
	}
	var in, out, defIn, defOut bool
	for _, d := range devs {
		t.Logf("%d %q %s in=%d out=%d default in/out=%v/%v %g Hz", d.Index, d.Name, d.HostAPI,
			d.MaxInputs, d.MaxOutputs, d.DefaultInput, d.DefaultOutput, d.DefaultRate)
		in = in || d.MaxInputs > 0
		out = out || d.MaxOutputs > 0
		defIn = defIn || d.DefaultInput
		defOut = defOut || d.DefaultOutput
		if d.HostAPI == "" || d.DefaultRate <= 0 {
			t.Errorf("device %d lacks host API or rate: %+v", d.Index, d)
		}
	}
	if !in || !out || !defIn || !defOut {
		t.Fatalf("want an input, an output and defaults for both; got %+v", devs)
	}
	if _, err := b.OpenSource("no such device"); err == nil || !strings.Contains(err.Error(), "default") {
		t.Errorf("OpenSource(unknown) = %v; want an error listing the devices", err)
	}
}

// With no sound card and no sound server, New must say so in words a user can act on.
func TestNewWithoutDevices(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{"HOME": dir, "XDG_RUNTIME_DIR": dir, "XDG_CONFIG_HOME": dir,
		"PULSE_SERVER": "unix:" + dir + "/none", "PULSE_RUNTIME_PATH": dir} {
		t.Setenv(k, v)
	}
	b, err := New(nil)
	if err == nil {
		devs, _ := b.Devices()
		b.Close()
		t.Skipf("this machine has sound devices (%d), so the no-device error cannot be seen", len(devs))
	}
	if !errors.Is(err, audio.ErrUnavailable) || err.Error() != "no sound device found" {
		t.Fatalf("New = %v; want the no-device error matching audio.ErrUnavailable", err)
	}
}

// forEachMode runs f with each way a device can be opened: at 48 kHz mono (what PulseAudio
// accepts: the wideband default), as if the device refused that (its own rate in stereo, so
// the channel mixing and a fractional ratio are exercised), and at 8 kHz mono (a device that
// takes nothing else, and how devices were opened before wideband).
func forEachMode(t *testing.T, f func(t *testing.T)) {
	if checkptrBreaksStreams && !checkptrOff() {
		t.Skip("-race enables checkptr, which aborts inside gordonklaus/portaudio on the second stream; use go test -race -gcflags=all=-d=checkptr=0")
	}
	for _, m := range []struct {
		name string
		mode openMode
	}{{"48kHz-mono", openWide}, {"device-rate-stereo", openDeviceRate}, {"8kHz-mono", openNarrow}} {
		t.Run(m.name, func(t *testing.T) {
			testOpenMode = m.mode
			defer func() { testOpenMode = openWide }()
			f(t)
		})
	}
}

func TestSinkPlaysTone(t *testing.T) { forEachMode(t, testSinkPlaysTone) }

func TestSourceCapturesTone(t *testing.T) { forEachMode(t, testSourceCapturesTone) }

func testSinkPlaysTone(t *testing.T) {
	p := startPulse(t)
	t.Setenv("PULSE_SINK", "dt_play") // the ALSA plugin's stream goes to this sink
	b := newTestBackend(t)
	rec := p.record(t, "dt_play.monitor")

	sink, err := b.OpenSink("")
	if err != nil {
		t.Fatal(err)
	}
	// Write the tone in real time, at least 1 s of it, until the recording holds enough of
	// it: a machine too busy to keep up only makes the test take longer.
	const amp, minBlocks = 8000, 25
	tone := sine(1000, amp, audio.SampleRate) // 1 s, whole cycles: it loops seamlessly
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i, deadline := 0, time.Now().Add(20*time.Second); time.Now().Before(deadline); i++ {
		off := i * audio.FrameSamples % len(tone)
		if err := sink.Write(tone[off : off+audio.FrameSamples]); err != nil {
			t.Fatal(err)
		}
		<-tick.C // pace like the media session: the ring holds only 200 ms
		if i >= 50 && i%10 == 0 {
			if clean, _, _ := toneBlocks(rec.samples(), 1000, amp); clean >= minBlocks {
				break
			}
		}
	}
	s := sink.(*Sink)
	for deadline := time.Now().Add(5 * time.Second); s.Stats().Buffered > 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // let PulseAudio pass the tail to the monitor
	t.Logf("sink stats: %+v", s.Stats())
	start := time.Now()
	if err := sink.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	t.Logf("Close took %v", time.Since(start))
	if err := sink.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := sink.Write(tone[:audio.FrameSamples]); err == nil {
		t.Error("Write after Close succeeded")
	}
	checkTone(t, rec.stop(), 1000, amp, minBlocks)
}

func testSourceCapturesTone(t *testing.T) {
	startPulse(t)
	t.Setenv("PULSE_SOURCE", "dt_capture.monitor") // the ALSA plugin records this source
	b := newTestBackend(t)
	src, err := b.OpenSource("")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	// pacat plays the tone for up to 20 s; the test reads until it has heard enough of it, so
	// a machine too busy to keep up with real time only makes the test take longer.
	const amp, minBlocks = 8000, 25
	var raw bytes.Buffer
	binary.Write(&raw, binary.LittleEndian, sine(700, amp, 20*audio.SampleRate))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	play := exec.CommandContext(ctx, "pacat", "--playback", "--device=dt_capture",
		"--format=s16le", "--rate=8000", "--channels=1")
	play.Stdin = &raw
	dieWithTest(play)
	var playErr bytes.Buffer
	play.Stderr = &playErr
	if err := play.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); play.Wait() }()

	var got []int16
	frame := make([]int16, audio.FrameSamples)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		<-tick.C
		start := time.Now()
		if err := src.Read(frame); err != nil {
			t.Fatal(err)
		}
		// Read only copies from the ring; a whole second means it waited for the device.
		// (Anything shorter could be this slow machine pausing the test.)
		if d := time.Since(start); d > time.Second {
			t.Errorf("Read blocked for %v", d)
		}
		got = append(got, frame...)
		if len(got) >= 75*audio.FrameSamples { // at least 1.5 s of Reads
			if clean, _, _ := toneBlocks(got, 700, amp); clean >= minBlocks {
				break
			}
		}
	}
	t.Logf("source stats: %+v", src.(*Source).Stats())
	start := time.Now()
	if err := src.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	t.Logf("Close took %v", time.Since(start))
	if err := src.Read(frame); err == nil {
		t.Error("Read after Close succeeded")
	}
	if t.Failed() {
		t.Logf("pacat: %s", playErr.String())
	}
	checkTone(t, got, 700, amp, minBlocks)
}

// recorder is parec capturing a PulseAudio source as 8 kHz mono s16le.
type recorder struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	waited chan struct{} // closed when parec has exited and all its output is in
	errOut bytes.Buffer  // read only after waited

	mu  sync.Mutex
	raw []byte
}

// record starts parec on source and waits until PulseAudio has attached it, so nothing
// played afterwards is missed.
func (p *pulse) record(t *testing.T, source string) *recorder {
	t.Helper()
	return p.recordAt(t, source, 8000)
}

// recordAt is record at rate Hz.
func (p *pulse) recordAt(t *testing.T, source string, rate int) *recorder {
	t.Helper()
	before := p.sourceOutputs(t) // startPulse's warm-up recorders
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	r := &recorder{cancel: cancel, waited: make(chan struct{})}
	r.cmd = exec.CommandContext(ctx, "parec", "--device="+source, "--format=s16le", fmt.Sprintf("--rate=%d", rate), "--channels=1")
	r.cmd.Stdout, r.cmd.Stderr = r, &r.errOut
	dieWithTest(r.cmd)
	if err := r.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() { r.cmd.Wait(); close(r.waited) }()
	t.Cleanup(func() { r.cancel(); <-r.waited })
	for deadline := time.Now().Add(10 * time.Second); p.sourceOutputs(t) <= before; {
		if time.Now().After(deadline) {
			cancel()
			<-r.waited
			t.Fatalf("parec did not attach to %s; parec: %s\npulseaudio log:\n%s", source, r.errOut.String(), p.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return r
}

// Write collects parec's output (exec copies it from the pipe on its own goroutine).
func (r *recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.raw = append(r.raw, b...)
	return len(b), nil
}

// samples returns what has been recorded so far.
func (r *recorder) samples() []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := make([]int16, len(r.raw)/2)
	binary.Read(bytes.NewReader(r.raw[:2*len(s)]), binary.LittleEndian, s)
	return s
}

// stop ends the recording (SIGINT: parec flushes and exits) and returns all of it.
func (r *recorder) stop() []int16 {
	r.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-r.waited:
	case <-time.After(5 * time.Second):
		r.cancel() // kills parec
		<-r.waited
	}
	return r.samples()
}

// sourceOutputs counts the recording streams PulseAudio has.
func (p *pulse) sourceOutputs(t *testing.T) int {
	out, err := p.run(t, 5*time.Second, "pactl", "list", "short", "source-outputs")
	if err != nil {
		t.Fatalf("pactl: %v", err)
	}
	return len(strings.FieldsFunc(string(out), func(r rune) bool { return r == '\n' })) // lines
}
