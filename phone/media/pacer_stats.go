package media

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// PacerStats is the shared pacer's record since the process started.
type PacerStats struct {
	Sessions                  int           // sessions paced now
	Frames                    uint64        // frames sent
	LateP50, LateP99, LateMax time.Duration // how late frames left against their due time
	Overruns                  uint64        // ticks whose work took longer than the timer's period (20 or 5 ms)
	Moves                     uint64        // times a session's ticks moved earlier (pacer_move.go)
}

// ReadPacerStats is a snapshot of the shared pacer's record. Percentiles are the upper edge of
// their histogram bucket (within 3 %, never under the true value), the maximum is exact. A
// frame's lateness is from the slot it was due at (its phase's, pacer_phase.go) to the moment
// its RTP left: the timer's own delay, the work of the sessions paced before it in the tick,
// and its own send.
func ReadPacerStats() PacerStats { return pacer.stats.read() }

// pacerStats is what the pacer counts; each worker has its own histogram, so that two
// processors never write the same cache line for every frame.
type pacerStats struct {
	sessions atomic.Int64
	overruns atomic.Uint64
	moves    atomic.Uint64
	late     [maxPacerWorkers]lateHist
}

// The lateness histogram's buckets, in microseconds: one per microsecond below histLinear,
// then histSub to each power of two (a bucket is at most 1/32 of its value wide), up to
// histLinear << histExps (about 71 minutes); anything later counts in the last bucket.
const (
	histLinear  = 64
	histSub     = 32
	histExps    = 26
	histBuckets = histLinear + histSub*histExps
)

// lateHist is one worker's record of how late frames left. Only that worker writes it;
// readers may read it at any time.
type lateHist struct {
	counts [histBuckets]atomic.Uint64
	max    atomic.Int64 // nanoseconds
	_      [64]byte     // keeps the next worker's histogram off this one's last cache line
}

func (h *lateHist) record(d time.Duration) {
	d = max(d, 0)
	h.counts[histBucket(d.Microseconds())].Add(1)
	if int64(d) > h.max.Load() {
		h.max.Store(int64(d)) // one writer: no compare-and-swap needed
	}
}

// histBucket is the bucket of a lateness of us microseconds.
func histBucket(us int64) int {
	if us < histLinear {
		return int(max(us, 0))
	}
	e := bits.Len64(uint64(us)) - 6 // us>>e has 6 bits: 32..63
	if e > histExps {
		return histBuckets - 1
	}
	return histLinear + (e-1)*histSub + int(us>>e) - histSub
}

// histUpper is the first microsecond after bucket i: every value in it is below.
func histUpper(i int) int64 {
	if i < histLinear {
		return int64(i) + 1
	}
	e := (i-histLinear)/histSub + 1
	j := (i - histLinear) % histSub
	return int64(histSub+j+1) << e
}

func (ps *pacerStats) read() PacerStats {
	var sum [histBuckets]uint64
	var total uint64
	var most int64
	for w := range ps.late {
		h := &ps.late[w]
		for i := range h.counts {
			c := h.counts[i].Load()
			sum[i] += c
			total += c
		}
		most = max(most, h.max.Load())
	}
	return PacerStats{
		Sessions: int(ps.sessions.Load()),
		Frames:   total,
		LateP50:  histQuantile(&sum, total, 0.50, time.Duration(most)),
		LateP99:  histQuantile(&sum, total, 0.99, time.Duration(most)),
		LateMax:  time.Duration(most),
		Overruns: ps.overruns.Load(),
		Moves:    ps.moves.Load(),
	}
}

// histQuantile is the q-quantile of the counts: the upper edge of the bucket holding the
// rank-th smallest value, but never more than the largest value seen.
func histQuantile(counts *[histBuckets]uint64, total uint64, q float64, most time.Duration) time.Duration {
	if total == 0 {
		return 0
	}
	rank := max(uint64(math.Ceil(q*float64(total))), 1)
	var cum uint64
	for i, c := range counts {
		if cum += c; cum >= rank {
			return min(time.Duration(histUpper(i))*time.Microsecond, most)
		}
	}
	return most
}
