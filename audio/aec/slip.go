package aec

import "time"

// Sound devices that count their slips (audio/portaudio's Source and Sink: Slipped) let the
// reference queue follow jumps in the echo path. The canceller pairs the n-th captured sample
// with a fixed offset into what was written; a speaker ring that runs dry plays silence between
// two written frames, a ring that overflows drops audio, a Read that finds too little gets
// silence: each moves the echo against that pairing by the slip, and the adaptive filter,
// which models one fixed path, would lose it and take seconds to re-learn (on PulseAudio at
// 48 kHz: 40 dB of cancellation down to 2-5 dB after each). Moving the reference by the same
// amount at the same point keeps the path the filter learnt.
type slipper interface{ Slipped() time.Duration }

// slipLead is how far behind what was written the reference starts when the devices count
// slips. A slip that moves the capture forward (audio dropped) or the speaker's audio earlier
// (its queue trimmed) needs the reference moved forward, to audio written already: with the
// media session writing and reading in the same tick, nothing would be queued to skip. The
// speaker's latency trims and the microphone's short Reads balance in the long run but not in
// step: on PulseAudio two trims came before the short Reads that matched them, so the lead
// holds three frames (30 ms ran out: TestERLEAcrossTrimsAheadOfShortReads). The echo comes
// back later than this even on a low-latency sound card: the devices that count slips are
// audio/portaudio's, whose rings keep 20 ms at their emptiest on both sides and are read and
// written a 20 ms frame at a time (at least ~60-80 ms with the cards' own buffers; about 200 ms
// on PulseAudio), so the filter only models a path this much shorter.
const slipLead = 60 * time.Millisecond

// slipTrack turns a device's cumulative slip into samples at the canceller's rate.
type slipTrack struct {
	get  func() time.Duration // nil: the device does not count slips
	last int64                // the total, in samples, already applied
	init bool                 // last is set (false after a rebuild: the next read sets it)
}

// samplesOf rounds to the nearest sample, halves away from zero: slips are mostly negative
// (audio dropped, short Reads), and rounding those up (20 ms at 8 kHz to 159 samples, the
// next 20 ms to 160) moved the reference a sample against the echo at every other slip,
// which a filter that learnt the path to the sample loses 20-40 dB over for seconds.
func samplesOf(d time.Duration, rate int) int64 {
	n, half := int64(d)*int64(rate), int64(time.Second)/2
	if n < 0 {
		return (n - half) / int64(time.Second)
	}
	return (n + half) / int64(time.Second)
}

// step returns the slip since the last call, in samples at rate.
func (s *slipTrack) step(total time.Duration, rate int) int64 {
	n := samplesOf(total, rate)
	if !s.init {
		s.last, s.init = n, true
		return 0
	}
	d := n - s.last
	s.last = n
	return d
}

// shift moves the reference's read position by k samples: forward (skipping reference) when
// k > 0, back (zeros inserted before what has not been read) when k < 0. The interpolator's
// history before the read position is kept, and the drift loop's target moves with the depth,
// so it does not resample the jump away.
func (f *refFIFO) shift(k int) {
	if k == 0 {
		return
	}
	f.stats.Slips++
	if f.beyond(k) {
		return
	}
	h := min(taps/2-1, f.n) // history kept before the read position
	L := len(f.buf)
	if k > 0 {
		skip := max(0, min(k, f.n-taps)) // the interpolator's look-ahead stays
		for i := h - 1; i >= 0; i-- {
			f.buf[(f.r+skip+i)%L] = f.buf[(f.r+i)%L]
		}
		f.r = (f.r + skip) % L
		f.n -= skip
		f.owed += k - skip // not written yet: skipped when it is
	} else {
		k = -k
		if f.owed > 0 {
			o := min(f.owed, k)
			f.owed -= o
			k -= o
		}
		k = min(k, L-taps)
		if over := f.n + k - L; over > 0 {
			f.n -= over // the newest go: the queue holds a second
			f.stats.Resyncs++
		}
		r := (f.r - k + L) % L
		for i := range h {
			f.buf[(r+i)%L] = f.buf[(f.r+i)%L]
		}
		for i := range k {
			f.buf[(r+h+i)%L] = 0
		}
		f.r = r
		f.n += k
		k = -k
	}
	f.deepened(-k)
}

// beyond restarts the queue for a slip of k samples either way that is more than it holds: the
// streams were apart that long (a hold: the session neither read the microphone nor, maybe,
// wrote the speaker, and the rings dropped or ran dry for all of it). Taken as a slip, the
// part the queue could not skip was owed and cut out of the far end's next seconds of audio,
// the canceller running on held samples meanwhile. Started anew, the reference lines up with
// the next frame written as at the call's start; the filter keeps the echo path it learnt.
func (f *refFIFO) beyond(k int) bool {
	if max(k, -k) < len(f.buf) {
		return false
	}
	f.reset()
	f.stats.Resyncs++
	return true
}

// deepened tells the drift loop that a slip made the queue k samples deeper (fewer when
// negative) for good: it holds the new depth instead of resampling the jump away.
func (f *refFIFO) deepened(k int) {
	if f.target >= 0 {
		f.target += float64(k)
	}
	f.depthSum += float64(k * f.reads)
}

// pushPlayed queues frame as the reference, with the speaker's slips of its Write where the
// speaker had them: the silence it played since the last frame (it ran dry) before the frame,
// and what its latency trim dropped from the frame's start taken off. The caller holds c.mu.
func (c *Canceller) pushPlayed(frame []int16) {
	if c.srcSlip.get == nil || c.sinkSlip.get == nil {
		c.fifo.push(frame)
		return
	}
	k := int(c.sinkSlip.step(c.sinkSlip.get(), c.stats.Rate))
	switch {
	case k > 0:
		c.fifo.stats.Slips++
		if c.fifo.beyond(k) {
			break
		}
		if o := min(c.fifo.owed, k); o > 0 { // silence played where audio was to be skipped
			c.fifo.owed -= o
			k -= o
		}
		if c.fifo.n > 0 && k > 0 { // an empty queue starts with zeros anyway
			k = min(k, len(c.fifo.buf)/2)
			c.fifo.putZeros(k)
			c.fifo.deepened(k)
		}
	case k < 0:
		c.fifo.stats.Slips++
		d := min(-k, len(frame))
		frame = frame[d:]
		c.fifo.owed += -k - d // dropped more than this frame: older audio, skipped later
		c.fifo.deepened(k)
	}
	if len(frame) > 0 {
		c.fifo.push(frame)
	}
}

// followCapture moves the reference with the microphone's slips since the last Read, and
// reports whether the frame just read is silence the device never captured (a short Read).
// That frame is passed as it is, without taking a reference frame: the filter then sees both
// streams continue as if the Read had not happened, which they did on the device. (Inserting
// zeros into both instead would keep the counts but not the filter's far-end history, which
// the echo of the next ~200 ms comes from: a re-learning transient at each short Read.)
// Captured audio dropped moves the reference forward, here, where the capture jumped. The
// speaker's slips go with its Writes (pushPlayed). The caller holds c.mu.
func (c *Canceller) followCapture(frame int) (fake bool) {
	k := int(c.srcSlip.step(c.srcSlip.get(), c.stats.Rate))
	if k <= -frame {
		c.fifo.stats.Slips++
		c.fifo.deepened(frame) // the frame not taken waits: the queue is a frame deeper
		c.fifo.shift(k + frame)
		return true
	}
	c.fifo.shift(k)
	return false
}
