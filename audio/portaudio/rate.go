//go:build cgo && !noportaudio

package portaudio

import (
	"fmt"

	"github.com/dialtone/dialtone/audio"
)

var (
	_ audio.RateSetter = (*Source)(nil)
	_ audio.RateSetter = (*Sink)(nil)
)

// The device runs at the rate its stream was opened at (48 kHz where it takes it: stream.go);
// the call's rate (8 kHz for G.711, 16 kHz for G.722) is converted to and from it here, by
// whole ratios; a 48 kHz (Opus) call on a 48 kHz device is not converted at all.

// SetRate makes Read give frames at hz: captured audio is converted from the device's rate to
// hz and queued at hz. What was queued at the old rate is dropped (a few ms, at a codec
// change); the statistics carry on.
func (src *Source) SetRate(hz int) error {
	if hz <= 0 || hz > 384000 {
		return fmt.Errorf("portaudio: invalid rate %d Hz", hz)
	}
	if src.s.closed.Load() {
		return errClosed
	}
	s := src.s
	s.capMu.Lock()
	cur := s.capRate
	s.capMu.Unlock()
	if hz == cur {
		return nil
	}
	var rs *resampler
	if float64(hz) != s.rate {
		rs = newResampler(s.rate, float64(hz))
	}
	r := newRing(hz*ringMs/1000, hz*prefillMs/1000) // made before the lock: the callback waits for the swap only
	r.setRate(hz, false)
	s.capMu.Lock()
	r.stats = s.ring.snapshot()
	r.slipBase = r.stats.Slipped
	r.stats.Buffered, r.stats.Slipped = 0, 0
	s.rs, s.ring, s.capRate = rs, r, hz
	s.conv = s.conv[:0]
	s.capMu.Unlock()
	return nil
}

// captureRing is the capture ring now (SetRate replaces it).
func (s *stream) captureRing() *ring {
	s.capMu.Lock()
	defer s.capMu.Unlock()
	return s.ring
}

// SetRate makes Write take frames at hz, converted to the device's rate before they are
// queued (the queue holds device-rate samples whatever the call's rate, so nothing queued is
// lost at a codec change).
func (snk *Sink) SetRate(hz int) error {
	if hz <= 0 || hz > 384000 {
		return fmt.Errorf("portaudio: invalid rate %d Hz", hz)
	}
	if snk.s.closed.Load() {
		return errClosed
	}
	snk.mu.Lock()
	defer snk.mu.Unlock()
	if hz == snk.rate {
		return nil
	}
	snk.rate, snk.rs = hz, nil
	if float64(hz) != snk.s.rate {
		snk.rs = newResampler(float64(hz), snk.s.rate)
	}
	return nil
}

// frameRate is the rate of the frames Write takes.
func (snk *Sink) frameRate() int {
	snk.mu.Lock()
	defer snk.mu.Unlock()
	if snk.rate == 0 {
		return audio.SampleRate
	}
	return snk.rate
}
