package audiotest

import (
	"fmt"
	"slices"
	"sync"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/audio/wav"
)

var _ audio.Sink = (*Recorder)(nil)

// Recorder is a Sink that keeps everything written to it, for tests to inspect. Safe for
// concurrent use: one goroutine may write while the test reads.
type Recorder struct {
	mu      sync.Mutex
	samples []int16
	frames  int
	closed  bool
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{} }

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

// SaveWAV writes what was recorded to an 8 kHz WAV file: handy to listen to what a failing
// test heard (t.TempDir() is removed afterwards, so pick a path that survives).
func (r *Recorder) SaveWAV(path string) error {
	samples := r.Samples()
	w, err := wav.Create(path)
	if err != nil {
		return fmt.Errorf("audiotest: %w", err)
	}
	for len(samples) > 0 {
		n := min(len(samples), audio.FrameSamples)
		if err := w.Write(samples[:n]); err != nil {
			w.Close()
			return fmt.Errorf("audiotest: %w", err)
		}
		samples = samples[n:]
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("audiotest: %w", err)
	}
	return nil
}
