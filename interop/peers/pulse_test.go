package peers

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/audio/wav"
)

// TestPulseAudioPlayRecord: what Play feeds into dt_capture reaches Record's dt_play.monitor
// through a loopback module (standing in for a client that plays its microphone to its
// speaker), and a client using Env's default sink plays into dt_play too.
func TestPulseAudioPlayRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PulseAudio; skipped in -short mode")
	}
	t.Parallel()
	p := StartPulseAudio(t)
	if out, err := p.run("pactl", "load-module", "module-loopback",
		"source=dt_capture.monitor", "sink=dt_play", "latency_msec=20"); err != nil {
		t.Fatalf("%v %s\n%s", err, out, p.Log())
	}
	dir := t.TempDir()
	mic, speaker := filepath.Join(dir, "mic.wav"), filepath.Join(dir, "speaker.wav")
	if err := writeToneWAV(mic, 600, 8000, 3); err != nil {
		t.Fatal(err)
	}
	if err := writeToneWAV(speaker, 1000, 8000, 2); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, "rec.wav")
	stop := p.Record(t, rec)
	p.Play(t, mic)

	// paplay with no --device: Env's PULSE_SINK must send it to dt_play.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := p.commandContext(ctx, "paplay", speaker)
	cmd.Env = append(os.Environ(), p.Env()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("paplay with Env: %v\n%s", err, out)
	}
	time.Sleep(1500 * time.Millisecond) // the rest of the 3 s microphone tone
	stop()

	samples, rate, err := wav.ReadAll(rec)
	if err != nil {
		t.Fatal(err)
	}
	if rate != pulseRecordRate || len(samples) < rate {
		t.Fatalf("recording: %d samples at %d Hz", len(samples), rate)
	}
	for _, f := range []float64{600, 1000} {
		found, level, snr := audiotest.DetectTone(samples, rate, f)
		t.Logf("%.0f Hz: %.1f dBFS, SNR %.1f dB, recording %.2f s", f, level, snr, float64(len(samples))/float64(rate))
		if !found {
			t.Errorf("recording lacks %.0f Hz (%.1f dBFS)", f, level)
		}
	}
}
