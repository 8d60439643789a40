package main

import (
	"fmt"
	"time"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/store"
)

// setQuality puts a call's quality summary in its record (mos_min, mos_avg, loss_pct,
// jitter_max_ms, rtt_ms, codec) and returns the words the human line gets, "" without one.
func (r *record) setQuality(q *phone.CallQuality) string {
	if q == nil {
		return ""
	}
	jit, rtt := durMs(q.JitterMax), durMs(q.RTT)
	r.MOSMin, r.MOSAvg, r.LossPct, r.JitterMaxMs = &q.MOSMin, &q.MOSAvg, &q.LossPct, &jit
	if q.RTT > 0 {
		r.RTTMs = &rtt
	}
	if r.Codec == "" {
		r.Codec = q.Codec
	}
	return qualityWords(q)
}

// qualityWords is the summary for people: "MOS 4.38 (min 4.10), loss 0.4%, jitter ≤ 12ms, rtt 40ms".
func qualityWords(q *phone.CallQuality) string {
	s := fmt.Sprintf(", MOS %.2f (min %.2f), loss %.1f%%, jitter ≤ %dms", q.MOSAvg, q.MOSMin, q.LossPct, q.JitterMax.Round(time.Millisecond).Milliseconds())
	if q.RTT > 0 {
		s += fmt.Sprintf(", rtt %dms", q.RTT.Round(time.Millisecond).Milliseconds())
	}
	return s
}

// storedQuality is the phone's summary as the history keeps it (the codec has its own column).
func storedQuality(q *phone.CallQuality) *store.CallQuality {
	if q == nil {
		return nil
	}
	return &store.CallQuality{MOSMin: q.MOSMin, MOSAvg: q.MOSAvg, LossPct: q.LossPct, JitterMax: q.JitterMax, RTT: q.RTT}
}

// setStoredQuality is setQuality for a call read back from the history.
func (r *record) setStoredQuality(c store.Call) string {
	if c.Codec != "" {
		r.Codec = c.Codec
	}
	if c.Quality == nil {
		return ""
	}
	q := c.Quality
	return r.setQuality(&phone.CallQuality{Codec: c.Codec, MOSMin: q.MOSMin, MOSAvg: q.MOSAvg, LossPct: q.LossPct, JitterMax: q.JitterMax, RTT: q.RTT})
}
