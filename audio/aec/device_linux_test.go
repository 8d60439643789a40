//go:build cgo && !noportaudio

package aec

import (
	"context"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/audio/portaudio"
	"github.com/dialtone/dialtone/interop/peers"
)

// teeSource keeps a copy of what the device captured, before the canceller.
type teeSource struct {
	audio.Source
	raw []int16
}

func (s *teeSource) Read(f []int16) error {
	err := s.Source.Read(f)
	s.raw = append(s.raw, f...)
	return err
}

// TestDeviceEcho runs the canceller on real sound-device streams: a private PulseAudio whose
// loopback module carries what PortAudio plays on dt_play back into dt_capture (the
// microphone) 60 ms later, through PortAudio's rings, two streams and real scheduling
// jitter, paced by a 20 ms ticker as the media session does. After 10 s the echo must be at
// least 20 dB below what the device captured.
func TestDeviceEcho(t *testing.T) {
	needProcessor(t)
	if testing.Short() {
		t.Skip("runs 16 s of device audio; skipped with -short")
	}
	pa := peers.StartPulseAudio(t)
	for _, kv := range pa.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	load := exec.CommandContext(ctx, "pactl", "load-module", "module-loopback",
		"source=dt_play.monitor", "sink=dt_capture", "latency_msec=60", "source_dont_move=true", "sink_dont_move=true")
	load.Env = os.Environ()
	if out, err := load.CombinedOutput(); err != nil {
		t.Fatalf("pactl load-module module-loopback: %v: %s\n%s", err, out, pa.Log())
	}
	b, err := portaudio.New(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("portaudio: %v\n%s", err, pa.Log())
	}
	defer b.Close()
	dev, err := b.OpenSource("")
	if err != nil {
		t.Fatal(err)
	}
	snkDev, err := b.OpenSink("")
	if err != nil {
		dev.Close()
		t.Fatal(err)
	}
	tee := &teeSource{Source: dev}
	src, snk, c, err := Wrap(tee, snkDev, Defaults())
	if err != nil {
		t.Fatal(err)
	}
	defer snk.Close()
	defer src.Close()

	const frames = 800 // 16 s
	far := speechLike(rand.New(rand.NewPCG(9, 9)), frames*audio.FrameSamples, audio.SampleRate)
	scale(far, dbfs(-16))
	var out []int16
	frame := make([]int16, audio.FrameSamples)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for k := range frames {
		<-tick.C
		for i := range frame {
			frame[i] = clip(far[k*audio.FrameSamples+i])
		}
		if err := snk.Write(frame); err != nil {
			t.Fatalf("write: %v", err)
		}
		if err := src.Read(frame); err != nil {
			t.Fatalf("read: %v", err)
		}
		out = append(out, frame...)
	}
	from := 10 * audio.SampleRate
	raw, clean := toFloat(tee.raw[from:]), toFloat(out[from:])
	rawDB, cleanDB := db(rmsOf(raw)/32768), db(rmsOf(clean)/32768)
	delay := echoDelay(toFloat(tee.raw), far, audio.SampleRate)
	t.Logf("device echo: %v after it was written; %.1f dBFS captured, %.1f dBFS after the canceller: %.1f dB down; stats %+v",
		delay, rawDB, cleanDB, rawDB-cleanDB, c.Stats())
	if rawDB < -40 {
		t.Fatalf("the loopback carried no echo (%.1f dBFS captured)\n%s", rawDB, pa.Log())
	}
	if rawDB-cleanDB < 20 {
		t.Errorf("echo %.1f dB down on the devices, want >= 20", rawDB-cleanDB)
	}
}

func toFloat(x []int16) []float64 {
	f := make([]float64, len(x))
	for i, v := range x {
		f[i] = float64(v)
	}
	return f
}

// echoDelay finds how long after it was written the far end comes back in the capture (the
// lag of the cross-correlation's peak over the first 8 s, up to 1 s).
func echoDelay(capt, far []float64, rate int) time.Duration {
	best, lag := 0.0, 0
	n := min(len(capt), len(far), 8*rate)
	for l := 0; l < rate; l += 4 {
		s := 0.0
		for i := l; i < n; i += 2 {
			s += capt[i] * far[i-l]
		}
		if math.Abs(s) > best {
			best, lag = math.Abs(s), l
		}
	}
	return time.Duration(lag) * time.Second / time.Duration(rate)
}
