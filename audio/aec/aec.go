// Package aec removes the far end's voice from what a sound card's microphone captures
// (acoustic echo cancellation), then suppresses stationary noise and evens out the level
// (automatic gain). It sits between a call's device Sink, whose frames are the reference
// (what the speaker plays), and its device Source, whose frames it cleans:
//
//	src, sink, c, err := aec.Wrap(deviceSource, deviceSink, aec.Defaults())
//
// The processing is speexdsp's (its MDF echo canceller, and its preprocessor with denoise,
// AGC and residual-echo suppression linked to the canceller) through cgo. Builds without cgo
// or with the nospeexdsp tag have no processor: Wrap returns an error matching ErrNotBuilt
// and the caller uses the devices as they are.
//
// Frames are 20 ms at the call's rate. When both device ends are audio.RateSetters, so are
// the wrappers: SetRate is forwarded and the speexdsp states are rebuilt at the new rate
// (8000, 16000 or 48000). Per frame nothing is allocated.
//
// The echo must come back within Options.Tail (250 ms) of its frame being written to the
// sink (for devices that count slips, between 60 and 310 ms: slip.go's slipLead): through
// PortAudio and PulseAudio (devices at 48 kHz) that is 185-210 ms. The reference
// queue between the two (fifo.go) keeps their alignment fixed through jitter, follows a
// difference between the two ends' clocks, and resyncs after stalls. Devices that count their
// slips (audio/portaudio: a speaker ring that ran dry, audio dropped, a short Read; slip.go)
// have the reference moved with each one, so the filter keeps the path it learnt. speexdsp
// prints its rare warnings ("echo canceller ... reset") to C's stderr, which audio/portaudio
// sends to the debug log.
package aec

import (
	"fmt"
	"sync"
	"time"

	"github.com/dialtone/dialtone/audio"
)

// ErrNotBuilt is returned by Wrap in builds without speexdsp. It matches audio.ErrUnavailable.
var ErrNotBuilt = fmt.Errorf("%w: echo cancellation is not built into this dialtone (built without cgo or with the nospeexdsp tag)", audio.ErrUnavailable)

// Options tune the processing. Defaults() is what calls use.
type Options struct {
	// Tail is the longest echo the canceller models: the speaker-to-microphone delay through
	// both sound-card buffers plus the room's reverberation. 0 means 250 ms.
	Tail time.Duration
	// Denoise suppresses stationary noise by up to NoiseSuppressDB (0 means 15 dB).
	Denoise         bool
	NoiseSuppressDB int
	// AGC brings the near-end voice towards a constant level: AGCLevel, speexdsp's target
	// loudness (0 means 24000: speech near -22 dBFS RMS; speexdsp's own default, 8000, left
	// a normal talker 10 dB quieter than it came in).
	AGC      bool
	AGCLevel float32
	// EchoSuppress runs speexdsp's residual-echo suppressor after the adaptive filter (it
	// is what takes the last 10-20 dB of echo away). It needs the preprocessor.
	EchoSuppress bool
}

// Defaults are echo cancellation with residual-echo suppression, noise suppression and AGC.
func Defaults() Options {
	return Options{Tail: 250 * time.Millisecond, Denoise: true, AGC: true, EchoSuppress: true}
}

func (o Options) tail() time.Duration {
	if o.Tail <= 0 {
		return 250 * time.Millisecond
	}
	return o.Tail
}

func (o Options) validate() error {
	if o.Tail > 2*time.Second {
		return fmt.Errorf("aec: tail %v is longer than 2s", o.Tail)
	}
	if o.NoiseSuppressDB < 0 || o.NoiseSuppressDB > 60 {
		return fmt.Errorf("aec: noise suppression %d dB is outside 0..60", o.NoiseSuppressDB)
	}
	return nil
}

// Stats count what the canceller did, for logs and tests.
type Stats struct {
	Rate       int     // the rate both ends run at; 0 while they differ (frames pass unprocessed)
	Frames     uint64  // captured frames processed
	Passed     uint64  // captured frames passed unprocessed (rates differ, wrong length, closed)
	Duplicated uint64  // reference samples repeated because it ran short
	Resyncs    uint64  // reference discontinuities
	Silent     uint64  // captured frames with no far-end reference
	Slips      uint64  // device slips the reference was moved for
	DriftPPM   float64 // how much faster the speaker's clock runs than the microphone's, as estimated
}

// Canceller is the state shared by a wrapped Source and Sink. Its methods are safe for
// concurrent use: the sink is written by the receive path while the source is read by the
// send path.
type Canceller struct {
	mu       sync.Mutex
	opts     Options
	srcRate  int
	sinkRate int
	eng      *engine // nil while the rates differ or after Close
	fifo     *refFIFO
	cap, ref []int16
	srcSlip  slipTrack // the devices' slips (slip.go)
	sinkSlip slipTrack
	released int // wrappers closed; the second frees the engine
	closed   bool
	stats    Stats
}

// Wrap returns src and sink with echo cancellation between them. Closing both wrappers
// (or the Canceller) frees the processor; closing a wrapper closes what it wraps.
func Wrap(src audio.Source, dst audio.Sink, opts Options) (audio.Source, audio.Sink, *Canceller, error) {
	if !Available {
		return nil, nil, nil, ErrNotBuilt
	}
	if err := opts.validate(); err != nil {
		return nil, nil, nil, err
	}
	c := &Canceller{opts: opts, srcRate: audio.SampleRate, sinkRate: audio.SampleRate}
	s, k := wrapSource(src, c), wrapSink(dst, c) // first: they tell rebuild whether the devices count slips
	if err := c.rebuild(audio.SampleRate); err != nil {
		return nil, nil, nil, err
	}
	return s, k, c, nil
}

// rebuild makes the speexdsp states for hz; the caller holds mu (or owns c alone).
func (c *Canceller) rebuild(hz int) error {
	if err := checkRate(hz); err != nil {
		return err
	}
	if c.eng != nil {
		c.eng.free()
		c.eng = nil
	}
	n := hz / 50
	e, err := newEngine(hz, n, c.opts)
	if err != nil {
		return err
	}
	c.eng = e
	c.fifo = newRefFIFO(n, hz)
	if c.srcSlip.get != nil && c.sinkSlip.get != nil {
		c.fifo.lead = int(samplesOf(slipLead, hz))
	}
	c.cap = make([]int16, n)
	c.ref = make([]int16, n)
	c.stats.Rate = hz
	c.srcSlip.init, c.sinkSlip.init = false, false
	return nil
}

func checkRate(hz int) error {
	switch hz {
	case 8000, 16000, 32000, 48000:
		return nil
	}
	return fmt.Errorf("aec: unsupported rate %d Hz", hz)
}

// setRate records one end's new rate and rebuilds when both ends agree.
func (c *Canceller) setRate(isSource bool, hz int) error {
	if err := checkRate(hz); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if isSource {
		c.srcRate = hz
	} else {
		c.sinkRate = hz
	}
	if c.closed {
		return nil
	}
	if c.srcRate != c.sinkRate {
		if c.eng != nil {
			c.eng.free()
			c.eng = nil
		}
		c.stats.Rate = 0
		return nil
	}
	if c.eng != nil && c.stats.Rate == hz {
		return nil
	}
	return c.rebuild(hz)
}

// played queues a frame the sink was just given as the reference.
func (c *Canceller) played(frame []int16) {
	c.mu.Lock()
	if c.eng != nil && len(frame) == len(c.ref) {
		c.pushPlayed(frame)
	}
	c.mu.Unlock()
}

// unplayed takes back the newest k reference samples: the device dropped them unplayed.
func (c *Canceller) unplayed(k int) {
	c.mu.Lock()
	if c.eng != nil && k > 0 {
		c.fifo.trimNewest(k)
	}
	c.mu.Unlock()
}

// captured cleans a frame the source just captured, in place.
func (c *Canceller) captured(frame []int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.eng == nil || len(frame) != len(c.cap) {
		c.stats.Passed++
		return
	}
	copy(c.cap, frame)
	if c.srcSlip.get != nil && c.sinkSlip.get != nil && c.followCapture(len(frame)) {
		c.stats.Passed++
		return
	}
	c.fifo.pop(c.ref)
	c.eng.process(c.cap, c.ref, frame)
	c.stats.Frames++
}

// Stats returns the counters so far.
func (c *Canceller) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	if c.fifo != nil {
		s.Duplicated, s.Resyncs, s.Silent, s.DriftPPM = c.fifo.stats.Duplicated, c.fifo.stats.Resyncs, c.fifo.stats.Silent, c.fifo.stats.DriftPPM
		s.Slips = c.fifo.stats.Slips
	}
	return s
}

// Close frees the processor; frames then pass unprocessed. It does not close the devices.
func (c *Canceller) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.eng != nil {
		c.eng.free()
		c.eng = nil
	}
	return nil
}

func (c *Canceller) release() {
	c.mu.Lock()
	c.released++
	done := c.released >= 2
	c.mu.Unlock()
	if done {
		c.Close()
	}
}
