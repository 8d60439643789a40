//go:build cgo && !noportaudio

package portaudio

import (
	"math"
	"time"
)

// When the media session moves its playout ticks earlier (after a concealed or silent frame,
// phone/media/pacer_move.go), its next frame reaches the speaker's ring that much earlier. The
// ring is a FIFO the device drains at its own pace: its fill level is the latency it adds, so
// a frame that arrives d early would only wait d longer in it and the call would sound no
// sooner. TrimQueued drops d of the newest audio queued, which is the concealment just
// written, so the device plays the next frame d sooner. The microphone's Read moves with the
// tick too: Ahead tells the session how far it may move and still find a whole frame (a Read
// that comes up short sends a frame of silence and puts the send side a frame behind).

// TrimQueued drops up to samples (at the rate of the frames Write takes: 8 kHz, or SetRate's)
// of the newest audio queued for the speaker and reports how many (at that rate) it dropped. A ring that is not playing (filling up to its
// prefill after running dry) is left alone: the device starts it once the prefill is there,
// whenever that arrives, so an earlier frame starts it sooner by itself.
func (snk *Sink) TrimQueued(samples int) int {
	if samples <= 0 || snk.s.closed.Load() {
		return 0
	}
	ratio := snk.s.rate / float64(snk.frameRate()) // the playback ring holds device-rate samples
	got := snk.s.ring.trimNewest(int(math.Round(float64(samples) * ratio)))
	return int(math.Round(float64(got) / ratio))
}

// captureJitter is how far a capture callback may come after its block's regular time
// (the host's scheduling); Ahead keeps it in hand.
const captureJitter = 2 * time.Millisecond

// Ahead is how much earlier than next the next Read could come and still find a whole frame.
// The device delivers in blocks, one every block's duration from the last: the frame the Read
// needs is complete once enough of them have come, and a Read after that finds it whatever
// its phase against the blocks. A ring holding a frame already could be read at once.
func (src *Source) Ahead(next time.Time) time.Duration {
	if src.s.closed.Load() {
		return 0
	}
	src.s.capMu.Lock()
	ring, rate := src.s.ring, max(src.s.capRate, 8000) // 0 in a stream a test built by hand
	src.s.capMu.Unlock()
	n, block, at := ring.fill()
	need := rate/50 - n
	if need <= 0 {
		return time.Until(next)
	}
	if block <= 0 {
		return 0
	}
	blocks := (need + block - 1) / block
	complete := at.Add(time.Duration(blocks*block) * time.Second / time.Duration(rate)) // capture rings hold the Source's rate
	return max(next.Sub(complete)-captureJitter, 0)
}

// trimNewest drops up to k of the newest samples while the ring is playing, and reports how
// many it dropped.
func (r *ring) trimNewest(k int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.primed {
		return 0
	}
	k = min(k, r.n)
	r.n -= k
	return k
}

// fill is how many samples the ring holds, how many the last push brought and when.
func (r *ring) fill() (n, block int, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n, r.block, r.pushedAt
}
