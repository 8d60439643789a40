package media

import "time"

// PolicyPeak's estimate of what the network needs: the largest transit (arrival less media
// time) over a sliding window of recent packets, kept as the maxima of a few blocks. The
// delay it calls for is that maximum less the fastest packets' transit (base).
//
// A maximum that decays instead (it once did, with a 10–20 s time constant) dips between
// the rare packets that come close to the largest delay; the buffer then shrinks by a frame,
// the next such packet is late, and it grows again. Under steady jitter a window's maximum
// stays put, and a stall of the sender (a few packets very late, on a loaded machine) is
// forgotten all at once when it leaves the window, not over tens of seconds. Transits are
// kept as they are, not less the base of the moment: the base creeps up between the fastest
// packets, and the level the window is compared with is measured against the base of now.
const (
	peakBlock  = 64 // packets per block: 1.28 s of 20 ms packets
	peakBlocks = 4  // full blocks kept besides the one filling: a window of 256–320 packets
)

type peakWindow struct {
	blocks [peakBlocks]time.Duration // maxima of the last full blocks, newest first
	full   int                       // how many of blocks hold a maximum
	cur    time.Duration             // maximum of the block being filled
	n      int                       // packets in it
}

// add records one packet's transit.
func (w *peakWindow) add(r time.Duration) {
	if w.n == 0 {
		w.cur = r
	}
	w.cur = max(w.cur, r)
	w.n++
	if w.n == peakBlock {
		copy(w.blocks[1:], w.blocks[:peakBlocks-1])
		w.blocks[0], w.n = w.cur, 0
		w.full = min(w.full+1, peakBlocks)
	}
}

// max is the second largest of the blocks' maxima: the largest transit in the window
// but for one block's, so one stall of the sender (its packets all in one or two blocks)
// does not hold the delay up for the whole window, while steady jitter, which reaches
// near its largest in every block, is followed as closely. ok is false until two blocks
// have a maximum.
func (w *peakWindow) max() (m time.Duration, ok bool) {
	var top, second time.Duration
	n := 0
	note := func(v time.Duration) {
		switch {
		case n == 0 || v > top:
			top, second = v, top
		case n == 1 || v > second:
			second = v
		}
		n++
	}
	if w.n > 0 {
		note(w.cur)
	}
	for _, b := range w.blocks[:w.full] {
		note(b)
	}
	if n < 2 {
		return top, n == 1
	}
	return second, true
}

// peakDelay is the delay beyond the fastest packets that the window's slowest one had.
func (j *JitterBuffer) peakDelay() time.Duration {
	m, ok := j.peak.max()
	if !ok || !j.hasBase {
		return 0
	}
	return max(m-j.base, 0)
}
