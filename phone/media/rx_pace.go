package media

import (
	"time"

	"github.com/dialtone/dialtone/codec"
)

// A far end may send packets of another duration than our 20 ms: a=ptime is only a wish (RFC
// 4566 §6), and 10, 30, 40 and 60 ms packets are all met in the field. The jitter buffer files
// one packet per frame, so its frame follows the packets' duration (followPace), and the
// playout, which ticks every 20 ms for every call, takes whole packets from it and plays them
// from a small queue of decoded samples (playPaced). Before, a 30 ms packet was filed as a
// 20 ms frame: a third of the far end's audio was cut off, and every third tick concealed.

// packetPace is the receive side's view of the far end's packet duration.
type packetPace struct {
	pcm     []int16       // decoded samples not played yet; made at the first other pace
	n       int           // how many of pcm wait
	scratch []int16       // one 20 ms frame, for a codec that conceals only whole ones (Opus)
	odd     time.Duration // a packet duration other than the buffer's frame, seen last
	oddRun  int           // how many packets in a row carried it
}

const (
	// The packet durations followed: RFC 6716 allows Opus packets of 2.5 to 120 ms; below
	// 10 ms a packet would be popped several times a tick for no gain, so such a stream
	// stays on 20 ms frames.
	minPace = 10 * time.Millisecond
	maxPace = 120 * time.Millisecond
	// paceConfirm packets in a row must carry a new duration before the buffer follows it
	// mid-stream: one odd packet is not a new pace.
	paceConfirm = 2
)

// followPace re-times the jitter buffer when the far end's packets carry another duration than
// its frame: at once for a stream's first packet, else once paceConfirm packets in a row agree.
// Re-timing drops what is buffered (SetFrameDuration), so it happens once, not back and forth.
// Called with r.mu held for every audio packet, before Push.
func (r *receiver) followPace(c codec.Codec, payload []byte) {
	ticks := codec.PacketTicks(c, payload)
	if ticks <= 0 {
		return
	}
	d := time.Duration(ticks) * time.Second / time.Duration(c.ClockRate())
	if d == r.jb.FrameDuration() || d < minPace || d > maxPace {
		r.pace.oddRun = 0
		return
	}
	if d != r.pace.odd {
		r.pace.odd, r.pace.oddRun = d, 0
	}
	r.pace.oddRun++
	if r.jb.started && r.pace.oddRun < paceConfirm {
		return
	}
	r.jb.SetFrameDuration(d)
	r.pace.oddRun = 0
}

// frameSamplesAt is how many samples at rate one frame of the jitter buffer (one of the far
// end's packets) carries.
func (r *receiver) frameSamplesAt(rate int) int {
	return int(int64(rate) * int64(r.jb.FrameDuration()) / int64(time.Second))
}

// playPaced fills out (one 20 ms tick at the call's rate) from packets of another duration:
// whole frames are popped and decoded into the queue, and out is played from it, so every
// sample plays once and in order. Each Pop is told when its first sample will be heard (now,
// plus what the queue still holds), so the buffer's timing sees frames play at their own pace.
// The caller holds r.mu.
func (r *receiver) playPaced(s *Session, dec codec.Decoder, now time.Time, out []int16, rate, frame int) {
	q := &r.pace
	if need := len(out) + frame; len(q.pcm) < need { // once per change of pace or rate
		pcm := make([]int16, need)
		copy(pcm, q.pcm[:q.n])
		q.pcm = pcm
	}
	for q.n < len(out) {
		at := now.Add(time.Duration(q.n) * time.Second / time.Duration(rate))
		chunk := q.pcm[q.n : q.n+frame]
		if r.popInto(s, dec, at, chunk) == Buffering {
			// Nothing was due: silence for what this tick lacks, not a whole packet's worth
			// of delay added before the next one.
			chunk = chunk[:min(len(chunk), len(out)-q.n)]
		}
		q.n += len(chunk)
	}
	copy(out, q.pcm[:len(out)])
	q.n = copy(q.pcm, q.pcm[len(out):q.n])
}

// concealWhole conceals out with a codec that conceals 20 ms at a time (Opus), in as many
// frames as out needs; false when the codec fails, so the caller's own concealment takes over.
func (r *receiver) concealWhole(c codec.Concealer, out []int16) bool {
	whole := codec.FrameSamplesAt(r.plcRate)
	if len(out) == whole {
		n, err := c.Conceal(out)
		if err != nil {
			return false
		}
		clear(out[n:])
		return true
	}
	if len(r.pace.scratch) < whole {
		r.pace.scratch = make([]int16, codec.MaxFrameSamples)
	}
	for done := 0; done < len(out); {
		n, err := c.Conceal(r.pace.scratch[:whole])
		if err != nil || n == 0 {
			return false
		}
		done += copy(out[done:], r.pace.scratch[:n])
	}
	return true
}
