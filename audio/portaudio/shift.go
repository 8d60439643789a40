//go:build cgo && !noportaudio

package portaudio

import (
	"time"

	"github.com/dialtone/dialtone/audio"
)

// When the media session moves its playout ticks earlier (after a concealed or silent frame,
// phone/media/pacer_move.go), its next frame reaches the speaker's ring that much earlier. The
// ring is a FIFO the device drains at its own pace: its fill level is the latency it adds, so
// a frame that arrives d early would only wait d longer in it and the call would sound no
// sooner. TrimQueued drops d of the newest audio queued, which is the concealment just
// written, so the device plays the next frame d sooner; the capture side's Ahead tells the
// session how far its next Read may move without finding less than a frame (which would send
// a frame of silence).

// TrimQueued drops up to samples (at 8 kHz) of the newest audio queued for the speaker and
// reports how many (at 8 kHz) it dropped. A ring that is not playing (filling up to its
// prefill after running dry) is left alone: the device starts it once the prefill is there,
// whenever that arrives, so an earlier frame starts it sooner by itself.
func (snk *Sink) TrimQueued(samples int) int {
	if samples <= 0 || snk.s.closed.Load() {
		return 0
	}
	ratio := snk.s.rate / audio.SampleRate // the playback ring holds device-rate samples
	if snk.s.rs == nil {
		ratio = 1
	}
	got := snk.s.ring.trimNewest(int(float64(samples) * ratio))
	return int(float64(got) / ratio)
}

// Ahead is how much earlier than a frame (20 ms) from now the next Read could come and still
// find a whole frame: what the ring holds now less one callback's block (the device delivers
// in blocks, so the audio of the next 20 ms can come up to a block short).
func (src *Source) Ahead() time.Duration {
	if src.s.closed.Load() {
		return 0
	}
	n, block := src.s.ring.fill()
	return time.Duration(n-block) * time.Second / audio.SampleRate // capture rings hold 8 kHz
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

// fill is how many samples the ring holds and how many the last push brought.
func (r *ring) fill() (n, block int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n, r.block
}
