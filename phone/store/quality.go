package store

import (
	"database/sql"
	"time"
)

// CallQuality is a call's quality summary as the history keeps it (the phone computes it
// from its media statistics with the E-model, phone/quality).
type CallQuality struct {
	MOSMin, MOSAvg float64       // estimated MOS: the worst ~5 s, and the call's average
	LossPct        float64       // frames lost at playout, percent of those expected
	JitterMax      time.Duration // the highest interarrival jitter reported
	RTT            time.Duration // mean round trip; 0 if RTCP never measured one
}

// qualityVersion is the schema version that added the quality columns (migrations[2]), and
// readOnlyMinVersion the oldest a read-only store still lists: one that cannot be upgraded
// (`dialtone history` on a read-only directory) reads the calls of a version-2 file without
// their summaries rather than refuse it.
const (
	qualityVersion     = 3
	readOnlyMinVersion = 2
)

// qualitySelect is the quality columns of a calls query, or NULLs for a file too old to have
// them.
func (s *Store) qualitySelect() string {
	if s.version != 0 && s.version < qualityVersion {
		return "'', NULL, NULL, NULL, NULL, NULL"
	}
	return "codec, mos_min, mos_avg, loss_pct, jitter_max_ms, rtt_ms"
}

// qualityColumns are mos_min, mos_avg, loss_pct, jitter_max_ms and rtt_ms: all NULL for a
// call without a summary; rtt_ms alone NULL when no round trip was measured.
type qualityColumns [5]sql.NullFloat64

func (q *CallQuality) columns() qualityColumns {
	if q == nil {
		return qualityColumns{}
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	c := qualityColumns{{Float64: q.MOSMin, Valid: true}, {Float64: q.MOSAvg, Valid: true},
		{Float64: q.LossPct, Valid: true}, {Float64: ms(q.JitterMax), Valid: true}}
	if q.RTT > 0 {
		c[4] = sql.NullFloat64{Float64: ms(q.RTT), Valid: true}
	}
	return c
}

func (c qualityColumns) quality() *CallQuality {
	if !c[1].Valid { // mos_avg is what a summary always has
		return nil
	}
	dur := func(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
	return &CallQuality{MOSMin: c[0].Float64, MOSAvg: c[1].Float64, LossPct: c[2].Float64,
		JitterMax: dur(c[3].Float64), RTT: dur(c[4].Float64)}
}
