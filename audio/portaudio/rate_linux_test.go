//go:build cgo && !noportaudio

package portaudio

import (
	"bytes"
	"context"
	"encoding/binary"
	"os/exec"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
)

// wideband runs f with the device at its own rate (refuseNative): PulseAudio's null sinks run
// at 44.1 kHz, so a 6 kHz tone of a 16 kHz call survives the device; at 8 kHz it could not.
func wideband(t *testing.T, f func(t *testing.T)) {
	if checkptrBreaksStreams && !checkptrOff() {
		t.Skip("-race enables checkptr, which aborts inside gordonklaus/portaudio on the second stream; use go test -race -gcflags=all=-d=checkptr=0")
	}
	refuseNative = true
	defer func() { refuseNative = false }()
	f(t)
}

// TestSinkPlaysAt16kHz: a Sink told 16 kHz takes 320-sample frames and plays their 6 kHz tone,
// converted to the device's rate.
func TestSinkPlaysAt16kHz(t *testing.T) {
	wideband(t, func(t *testing.T) {
		p := startPulse(t)
		t.Setenv("PULSE_SINK", "dt_play")
		b := newTestBackend(t)
		rec := p.recordAt(t, "dt_play.monitor", 16000)
		sink, err := b.OpenSink("")
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Close()
		if err := sink.(*Sink).SetRate(16000); err != nil {
			t.Fatal(err)
		}
		tone := audiotest.NewTone(6000, 0.25)
		if err := tone.SetRate(16000); err != nil {
			t.Fatal(err)
		}
		frame := make([]int16, 320)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		heard := false
		for i, deadline := 0, time.Now().Add(20*time.Second); !heard && time.Now().Before(deadline); i++ {
			_ = tone.Read(frame)
			if err := sink.Write(frame); err != nil {
				t.Fatal(err)
			}
			<-tick.C
			if i >= 50 && i%10 == 0 {
				got := rec.samples()
				heard = len(got) > 8000 && detected(got[len(got)-8000:], 16000, 6000)
			}
		}
		if !heard {
			got := rec.samples()
			t.Fatalf("no 6 kHz tone in %d samples recorded at 16 kHz", len(got))
		}
	})
}

// TestSourceCapturesAt48kHz: a Source told 48 kHz gives 960-sample frames holding the 6 kHz
// tone played into its device.
func TestSourceCapturesAt48kHz(t *testing.T) {
	wideband(t, func(t *testing.T) {
		startPulse(t)
		t.Setenv("PULSE_SOURCE", "dt_capture.monitor")
		b := newTestBackend(t)
		src, err := b.OpenSource("")
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		if err := src.(*Source).SetRate(48000); err != nil {
			t.Fatal(err)
		}
		tone := audiotest.NewTone(6000, 0.25)
		if err := tone.SetRate(16000); err != nil {
			t.Fatal(err)
		}
		var raw bytes.Buffer
		binary.Write(&raw, binary.LittleEndian, tone.Samples(20*16000))
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		play := exec.CommandContext(ctx, "pacat", "--playback", "--device=dt_capture",
			"--format=s16le", "--rate=16000", "--channels=1")
		play.Stdin = &raw
		dieWithTest(play)
		if err := play.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cancel(); play.Wait() }()
		var got []int16
		frame := make([]int16, 960)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		heard := false
		for deadline := time.Now().Add(20 * time.Second); !heard && time.Now().Before(deadline); {
			<-tick.C
			if err := src.Read(frame); err != nil {
				t.Fatal(err)
			}
			got = append(got, frame...)
			heard = len(got) > 48000 && detected(got[len(got)-24000:], 48000, 6000)
		}
		if !heard {
			t.Fatalf("no 6 kHz tone in %d samples read at 48 kHz (stats %+v)", len(got), src.(*Source).Stats())
		}
	})
}

func detected(samples []int16, rate int, freq float64) bool {
	found, lvl, _ := audiotest.DetectTone(samples, rate, freq)
	return found && lvl > -30
}
