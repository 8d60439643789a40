//go:build cgo && !noportaudio

package portaudio

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
)

// A 6 kHz tone is above what an 8 kHz call carries: finding it on the far side of the device
// proves the device path is wideband. PulseAudio's null sinks run at 44.1 kHz, so the tone
// survives the server; the device stream itself is opened the way dialtone opens it.

func noCheckptr(t *testing.T) {
	if checkptrBreaksStreams && !checkptrOff() {
		t.Skip("-race enables checkptr, which aborts inside gordonklaus/portaudio on the second stream; use go test -race -gcflags=all=-d=checkptr=0")
	}
}

// TestSinkPlaysWideband: a Sink told 16 or 48 kHz takes 320- or 960-sample frames and its 6 kHz
// tone comes out of the speaker (the null sink's monitor, recorded at the call's rate). The
// device is opened at 48 kHz mono by default; at 48 kHz no conversion runs at all.
func TestSinkPlaysWideband(t *testing.T) {
	noCheckptr(t)
	for _, rate := range []int{16000, 48000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			sink, got := playTone(t, rate, 6000, 20*time.Second, true)
			if sink.s.rate != wideRate || sink.s.channels != 1 {
				t.Errorf("device opened at %g Hz × %d, want %d Hz mono", sink.s.rate, sink.s.channels, wideRate)
			}
			if !got {
				t.Fatal("no 6 kHz tone at the speaker")
			}
		})
	}
}

// TestSinkNarrowLosesWideband is the control: a device opened at 8 kHz, as before, cannot
// play the 16 kHz call's 6 kHz tone, so TestSinkPlaysWideband would fail on it.
func TestSinkNarrowLosesWideband(t *testing.T) {
	noCheckptr(t)
	testOpenMode = openNarrow
	defer func() { testOpenMode = openWide }()
	if _, got := playTone(t, 16000, 6000, 4*time.Second, false); got {
		t.Fatal("a 6 kHz tone came through a device opened at 8 kHz: the detector is not discriminating")
	}
}

// playTone writes a freq Hz tone at rate into a Sink on the dt_play null sink, in real time,
// for up to limit, and reports whether the monitor heard it (stopping early once it did when
// early is set).
func playTone(t *testing.T, rate int, freq float64, limit time.Duration, early bool) (*Sink, bool) {
	p := startPulse(t)
	t.Setenv("PULSE_SINK", "dt_play")
	b := newTestBackend(t)
	rec := p.recordAt(t, "dt_play.monitor", rate)
	out, err := b.OpenSink("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	sink := out.(*Sink)
	if err := sink.SetRate(rate); err != nil {
		t.Fatal(err)
	}
	tone := audiotest.NewTone(freq, 0.25)
	if err := tone.SetRate(rate); err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, rate/50)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	heard := false
	for i, deadline := 0, time.Now().Add(limit); time.Now().Before(deadline) && !(heard && early); i++ {
		_ = tone.Read(frame)
		if err := sink.Write(frame); err != nil {
			t.Fatal(err)
		}
		<-tick.C
		if i >= 50 && i%10 == 0 {
			got := rec.samples()
			heard = heard || len(got) > rate/2 && detected(got[len(got)-rate/2:], rate, freq)
		}
	}
	got := rec.samples()
	t.Logf("recorded %d samples at %d Hz; heard %g Hz: %v; stats %+v", len(got), rate, freq, heard, sink.Stats())
	return sink, heard
}

// TestSourceCapturesWideband: a Source told 16 or 48 kHz gives 320- or 960-sample frames
// holding the 6 kHz tone played into its device.
func TestSourceCapturesWideband(t *testing.T) {
	noCheckptr(t)
	for _, rate := range []int{16000, 48000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			startPulse(t)
			t.Setenv("PULSE_SOURCE", "dt_capture.monitor")
			b := newTestBackend(t)
			in, err := b.OpenSource("")
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			src := in.(*Source)
			if src.s.rate != wideRate || src.s.channels != 1 {
				t.Errorf("device opened at %g Hz × %d, want %d Hz mono", src.s.rate, src.s.channels, wideRate)
			}
			if err := src.SetRate(rate); err != nil {
				t.Fatal(err)
			}
			tone := audiotest.NewTone(6000, 0.25)
			if err := tone.SetRate(48000); err != nil {
				t.Fatal(err)
			}
			var raw bytes.Buffer
			binary.Write(&raw, binary.LittleEndian, tone.Samples(20*48000))
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			play := exec.CommandContext(ctx, "pacat", "--playback", "--device=dt_capture",
				"--format=s16le", "--rate=48000", "--channels=1")
			play.Stdin = &raw
			dieWithTest(play)
			if err := play.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { cancel(); play.Wait() }()
			var got []int16
			frame := make([]int16, rate/50)
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			heard := false
			for deadline := time.Now().Add(20 * time.Second); !heard && time.Now().Before(deadline); {
				<-tick.C
				if err := src.Read(frame); err != nil {
					t.Fatal(err)
				}
				got = append(got, frame...)
				heard = len(got) > rate && detected(got[len(got)-rate/2:], rate, 6000)
			}
			if !heard {
				t.Fatalf("no 6 kHz tone in %d samples read at %d Hz (stats %+v)", len(got), rate, src.Stats())
			}
		})
	}
}

func detected(samples []int16, rate int, freq float64) bool {
	found, lvl, _ := audiotest.DetectTone(samples, rate, freq)
	return found && lvl > -30
}
