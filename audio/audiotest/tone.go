// Package audiotest has helpers for testing code that moves call audio: a tone Source,
// Goertzel-based tone detection and onset timing, an in-memory Loopback and a Recorder Sink.
// Everything works on dialtone's frame format (mono int16, 20 ms frames: 160 samples at
// 8 kHz, or rate/50 once a Tone or Recorder is told another rate with SetRate).
// Standard library only.
package audiotest

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/dialtone/dialtone/audio"
)

var (
	_ audio.Source     = (*Tone)(nil)
	_ audio.RateSetter = (*Tone)(nil)
)

// Tone is an endless sine-wave Source, at audio.SampleRate until SetRate says otherwise. Its
// phase runs on across frames (no clicks at frame edges, nor at a rate change), so detectors
// see one clean tone. Safe for concurrent use.
type Tone struct {
	mu        sync.Mutex
	freq      float64
	rate      int
	step      float64 // phase advance per sample, radians
	phase     float64
	amplitude float64 // peak, in int16 units
}

// NewTone returns a tone of freqHz with peak amplitude as a fraction of full scale (0..1).
func NewTone(freqHz, amplitude float64) *Tone {
	return &Tone{
		freq:      freqHz,
		rate:      audio.SampleRate,
		step:      2 * math.Pi * freqHz / audio.SampleRate,
		amplitude: math.Max(0, math.Min(1, amplitude)) * math.MaxInt16,
	}
}

// SetRate makes the following samples hz apart (a wideband call's 16 or 48 kHz). A tone at or
// above hz/2 cannot be represented: that is an error, and the rate stays.
func (t *Tone) SetRate(hz int) error {
	if hz <= 0 || t.freq >= float64(hz)/2 {
		return fmt.Errorf("audiotest: a %g Hz tone cannot be sampled at %d Hz", t.freq, hz)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rate, t.step = hz, 2*math.Pi*t.freq/float64(hz)
	return nil
}

// Rate is the sample rate the tone is generated at.
func (t *Tone) Rate() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rate
}

// Read fills frame with the next samples of the tone. It never returns an error.
func (t *Tone) Read(frame []int16) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range frame {
		frame[i] = int16(math.Round(t.amplitude * math.Sin(t.phase)))
		// Wrapping keeps the phase small, so precision does not decay over long runs.
		t.phase = math.Mod(t.phase+t.step, 2*math.Pi)
	}
	return nil
}

// Close does nothing; a Tone has nothing to release.
func (t *Tone) Close() error { return nil }

// Samples returns the next n samples of the tone.
func (t *Tone) Samples(n int) []int16 {
	s := make([]int16, n)
	_ = t.Read(s)
	return s
}

// Frames returns the next n frames of the tone.
func (t *Tone) Frames(n int) [][]int16 {
	frames := make([][]int16, n)
	for i := range frames {
		frames[i] = t.Samples(audio.FrameSamples)
	}
	return frames
}

// Collect reads up to frames frames from src and returns their samples joined. It stops
// early, without error, when src returns io.EOF.
func Collect(src audio.Source, frames int) ([]int16, error) {
	out := make([]int16, 0, frames*audio.FrameSamples)
	frame := make([]int16, audio.FrameSamples)
	for i := range frames {
		err := src.Read(frame)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, fmt.Errorf("audiotest: reading frame %d: %w", i, err)
		}
		out = append(out, frame...)
	}
	return out, nil
}
