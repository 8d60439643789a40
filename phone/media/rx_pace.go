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
	pcm    []int16       // decoded samples not played yet; made at the first other pace
	n      int           // how many of pcm wait
	odd    time.Duration // a packet duration other than the buffer's frame, seen last
	oddRun int           // how many packets in a row carried it
}

const (
	// The packet durations followed: whole 2.5 ms from 2.5 to 120 ms, the durations Opus
	// allows (RFC 6716 §2.1.4); G.711 and G.722 senders use whole 10 ms. A duration off that
	// grid is a stray packet (161 octets of G.711), not a pace.
	minPace  = 2500 * time.Microsecond
	maxPace  = 120 * time.Millisecond
	paceGrid = 2500 * time.Microsecond
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
	if d == r.jb.FrameDuration() || d < minPace || d > maxPace || d%paceGrid != 0 {
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
// sample plays once and in order. Each Pop is told when its first sample will be heard, shifted
// back by lead so that no Pop is told a time after now: a Pop at a later time than the packet
// is needed would count a packet still on its way as in time, and the buffer would never grow
// to save it (with 30 ms packets, every other one was late at some tick phases). What the
// queue holds at a Pop is the same modulo gcd(tick, frame) every time, so the times stay a
// frame apart.
// The caller holds r.mu.
func (r *receiver) playPaced(s *Session, dec codec.Decoder, now time.Time, out []int16, rate, frame int) {
	q := &r.pace
	if need := len(out) + frame; len(q.pcm) < need { // once per change of pace or rate
		pcm := make([]int16, need)
		copy(pcm, q.pcm[:q.n])
		q.pcm = pcm
	}
	// q.n mod g is the same at every Pop (each adds a frame, each tick takes len(out), both
	// multiples of g), and is not 0 after a pace change left the old pace's samples queued.
	g := gcd(len(out), frame)
	lead := len(out) - g + q.n%g
	for q.n < len(out) {
		at := now.Add(time.Duration(q.n-lead) * time.Second / time.Duration(rate))
		_, n := r.popInto(s, dec, at, q.pcm[q.n:q.n+frame], len(out)-q.n)
		q.n += n
	}
	copy(out, q.pcm[:len(out)])
	q.n = copy(q.pcm, q.pcm[len(out):q.n])
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// concealWhole conceals out with a codec's own concealment (Opus), in as many calls as it
// takes; false when the codec fails, so the caller's own concealment takes over.
func concealWhole(c codec.Concealer, out []int16) bool {
	for done := 0; done < len(out); {
		n, err := c.Conceal(out[done:])
		if err != nil || n <= 0 {
			return false
		}
		done += n
	}
	return true
}
