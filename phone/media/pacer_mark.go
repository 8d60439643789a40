package media

import "time"

// PacerMark is a snapshot of the shared pacer's lateness record, so that a caller can ask how
// late frames left over an interval (a load test's steady state, with every call up) instead
// of since the process started, set-up and tear-down included (ReadPacerStats).
type PacerMark struct {
	ps     *pacerStats
	counts [histBuckets]uint64
	total  uint64
}

// MarkPacer takes the snapshot.
func MarkPacer() PacerMark { return pacer.stats.mark() }

func (ps *pacerStats) mark() PacerMark {
	m := PacerMark{ps: ps}
	for w := range ps.late {
		h := &ps.late[w]
		for i := range h.counts {
			c := h.counts[i].Load()
			m.counts[i] += c
			m.total += c
		}
	}
	return m
}

// Since is how many frames the pacer sent after m was taken and how late they left: p50 and
// p99 as in ReadPacerStats (the upper edge of their bucket), capped by the largest lateness
// since the process started (the maximum is kept only for the whole life).
func (m PacerMark) Since() (frames uint64, p50, p99 time.Duration) {
	if m.ps == nil {
		return 0, 0, 0
	}
	now := m.ps.mark()
	var d [histBuckets]uint64
	for i := range d {
		d[i] = now.counts[i] - m.counts[i]
	}
	frames = now.total - m.total
	most := m.ps.read().LateMax
	return frames, histQuantile(&d, frames, 0.50, most), histQuantile(&d, frames, 0.99, most)
}
