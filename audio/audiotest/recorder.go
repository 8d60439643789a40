package audiotest

import (
	"fmt"
	"slices"
	"sync"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/audio/wav"
)

var (
	_ audio.Sink       = (*Recorder)(nil)
	_ audio.RateSetter = (*Recorder)(nil)
)

// Recorder is a Sink that keeps everything written to it, for tests to inspect. Safe for
// concurrent use: one goroutine may write while the test reads.
type Recorder struct {
	mu      sync.Mutex
	samples []int16
	frames  int
	closed  bool
	rate    int
	rates   []RateChange
}

// RateChange says from which sample on a Recorder's frames came at another rate.
type RateChange struct {
	Sample int // index into Samples of the first sample at Rate
	Rate   int
}

// NewRecorder returns an empty Recorder taking 8 kHz frames until SetRate says otherwise.
func NewRecorder() *Recorder { return &Recorder{rate: audio.SampleRate} }

// SetRate makes the following frames count at hz; the change is noted (Rates), so a test can
// tell which part of the recording is at which rate.
func (r *Recorder) SetRate(hz int) error {
	if hz <= 0 {
		return fmt.Errorf("audiotest: invalid rate %d Hz", hz)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rate == 0 {
		r.rate = audio.SampleRate // a zero Recorder
	}
	if hz != r.rate {
		r.rates = append(r.rates, RateChange{Sample: len(r.samples), Rate: hz})
		r.rate = hz
	}
	return nil
}

// Rate is the rate of the frames written now.
func (r *Recorder) Rate() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rate == 0 {
		return audio.SampleRate
	}
	return r.rate
}

// Rates lists the rate changes so far, oldest first.
func (r *Recorder) Rates() []RateChange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.rates)
}

// SamplesAt returns a copy of what was written while the rate was hz (the last such stretch).
func (r *Recorder) SamplesAt(hz int) []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	from, rate := 0, audio.SampleRate
	var got []int16
	for _, c := range r.rates {
		if rate == hz {
			got = r.samples[from:c.Sample]
		}
		from, rate = c.Sample, c.Rate
	}
	if rate == hz {
		got = r.samples[from:]
	}
	return slices.Clone(got)
}

// Write appends a copy of frame. It fails after Close, so a test notices audio written to a
// sink its owner already closed.
func (r *Recorder) Write(frame []int16) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	r.samples = append(r.samples, frame...)
	r.frames++
	return nil
}

// Close marks the Recorder closed; what it recorded stays available. Idempotent.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	return nil
}

// Samples returns a copy of everything written so far.
func (r *Recorder) Samples() []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.samples)
}

// Frames is the number of Write calls that succeeded.
func (r *Recorder) Frames() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.frames
}

// Closed reports whether Close was called.
func (r *Recorder) Closed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// SaveWAV writes what was recorded to a WAV file at the rate it was first recorded at (later
// stretches at other rates are resampled to it): handy to listen to what a failing test heard
// (t.TempDir() is removed afterwards, so pick a path that survives).
func (r *Recorder) SaveWAV(path string) error {
	r.mu.Lock()
	samples, changes := slices.Clone(r.samples), slices.Clone(r.rates)
	r.mu.Unlock()
	w, err := wav.Create(path)
	if err != nil {
		return fmt.Errorf("audiotest: %w", err)
	}
	from, rate := 0, audio.SampleRate
	changes = append(changes, RateChange{Sample: len(samples)})
	for _, c := range changes {
		if err := writeAt(w, samples[from:c.Sample], rate); err != nil {
			w.Close()
			return fmt.Errorf("audiotest: %w", err)
		}
		from, rate = c.Sample, c.Rate
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("audiotest: %w", err)
	}
	return nil
}

// writeAt writes samples at rate to w in 20 ms frames.
func writeAt(w *wav.Sink, samples []int16, rate int) error {
	if len(samples) == 0 {
		return nil
	}
	if err := w.SetRate(rate); err != nil {
		return err
	}
	for len(samples) > 0 {
		n := min(len(samples), rate/50)
		if err := w.Write(samples[:n]); err != nil {
			return err
		}
		samples = samples[n:]
	}
	return nil
}
