//go:build cgo && !noportaudio

package portaudio

import (
	"math"
	"time"
)

// A slip is the device's stream moving against the frames the media session reads and writes:
// the speaker's ring ran dry and the device played silence between two written frames, or a
// ring overflowed and dropped audio, or a Read found too little and got silence the microphone
// never captured. Each one is a jump in the echo path as an echo canceller sees it (it pairs
// the n-th sample written with the n-th read), so the streams count them, in time, and
// Slipped reports the total: audio/aec moves its reference by the change and its filter stays
// converged across the jump instead of re-learning the path for seconds.
//
// Capture and playback count with opposite signs so that an echo canceller can take the
// difference: capture's Slipped growing means the audio Read returns is later in the device's
// time than its count says (the echo comes sooner); playback's growing means written audio
// plays later than its count says (the echo comes later).

// Slipped is the playback stream's total slip: silence played between written frames less
// written audio dropped unplayed (TrimQueued's drops are not slips: its caller knows them).
func (snk *Sink) Slipped() time.Duration { return snk.Stats().Slipped }

// Slipped is the capture stream's total slip: captured audio dropped unread less the silence
// Reads got when too little had been captured.
func (src *Source) Slipped() time.Duration { return src.Stats().Slipped }

// slipDropped counts drop samples lost to an overflow; the caller holds r.mu.
func (r *ring) slipDropped(drop int) {
	if r.play {
		r.slip -= int64(drop)
	} else {
		r.slip += int64(drop)
	}
}

// slipped is the ring's slip in time; the caller holds r.mu. A ring a test built by hand has
// no rate and reports none.
func (r *ring) slipped() time.Duration {
	if r.rate <= 0 {
		return r.slipBase
	}
	return r.slipBase + time.Duration(r.slip*int64(time.Second)/int64(r.rate))
}

// A ring's fill is latency: what waits in it plays (or is read) that much later. It only ever
// grows by itself: a Read that comes up short leaves the frame it waited for in the ring when
// it comes, a speaker ring that ran dry refills to its prefill, a stalled reader or writer
// leaves a backlog, and a device clock a little faster than the media session's ticks adds a
// sample now and then. Each of those would stay for the rest of the call: on PulseAudio at
// 48 kHz the echo path grew from 200 to 370 ms in 16 s of a loaded machine, past the echo
// canceller's tail. latencyTrim watches the least the ring held right after each Read (or
// playback callback) over a second, and drops the oldest audio beyond a margin for the next
// second's jitter: a backlog that was never needed goes, once a second at most, counted as a
// slip so that the echo canceller follows it. (A device clock slower than the ticks ends in an
// underrun instead: a slip the other way, which this then brings back down.)
const (
	keepMargin = 20 * time.Millisecond // left in the ring at its emptiest moment
	keepWindow = 2 * time.Second       // how long the emptiest moment is looked for
)

type latencyTrim struct {
	window, margin int // in samples at the ring's rate; window 0: off
	seen           int // samples taken in this window
	low            int // the least left after a take in this window
	owe            int // playback: to drop from the start of the next Write's audio
	checks         int // windows looked at
}

func (l *latencyTrim) reset() { l.seen, l.low = 0, math.MaxInt }

// setRate makes r a ring of rate samples per second: slips are counted and latency kept down.
func (r *ring) setRate(rate int, play bool) {
	r.rate, r.play = rate, play
	r.lat.window = int(int64(rate) * int64(keepWindow) / int64(time.Second))
	r.lat.margin = int(int64(rate) * int64(keepMargin) / int64(time.Second))
	r.lat.reset()
	r.lat.seen = r.lat.window * 3 / 4 // the first look after 0.5 s: a start-up burst goes early
}

// keepDown runs as took samples leave the ring (a Read's or a callback's), pending of them
// still in it (a Read trims before it copies); the caller holds r.mu.
func (r *ring) keepDown(took, pending int) {
	l := &r.lat
	if l.window == 0 {
		return
	}
	l.low = min(l.low, r.n-pending)
	l.seen += took
	if l.seen < l.window {
		return
	}
	// Not for a few samples: each drop is heard. And a microphone's backlog only when it
	// is big (a stall's) once the start-up burst has gone: dropping captured audio moves the
	// capture against the far-end history an echo canceller holds, which it re-learns for a
	// second or two (the speaker's drops fall where it can follow them exactly).
	need := l.margin / 2
	if !r.play && l.checks > 0 {
		need = 3 * l.margin
	}
	l.checks++
	if extra := l.low - l.margin; extra >= need {
		if r.play {
			// The speaker's ring drops from the next Write instead of its oldest audio:
			// then the slip falls just before what the media session writes and reads
			// next, where an echo canceller moves its reference, and not a queue's
			// length earlier.
			l.owe = extra
		} else {
			r.head = (r.head + extra) % len(r.buf)
			r.n -= extra
			r.stats.Skipped += uint64(extra)
			r.slipDropped(extra)
		}
	}
	l.reset()
}

// payOwed drops what keepDown decided from the start of p, a Write's audio; the caller holds
// r.mu.
func (r *ring) payOwed(p []int16) []int16 {
	d := min(r.lat.owe, len(p))
	if d == 0 {
		return p
	}
	r.lat.owe -= d
	r.stats.Skipped += uint64(d)
	r.slipDropped(d)
	return p[d:]
}

// padDry runs before a Write's n samples go into a speaker ring that ran dry: it queues
// silence ahead of them up to the prefill, so the ring plays again at once and the whole
// silence between the last frame and this one is known (and counted) when this Write
// returns. Waiting for the next Write to fill the prefill, as at start-up, put part of that
// silence after this frame had been written: an echo canceller following the slip would put
// its zeros on the wrong side of the frame. The caller holds r.mu.
func (r *ring) padDry(n int) {
	if r.primed || !r.started {
		return
	}
	pad := r.minRead - r.n - n
	if pad <= 0 {
		return
	}
	pad = min(pad, len(r.buf)-r.n)
	for i := range pad {
		r.buf[(r.head+r.n+i)%len(r.buf)] = 0
	}
	r.n += pad
	r.slip += int64(pad)
}
