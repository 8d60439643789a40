package main

import (
	"fmt"
	"time"

	"github.com/dialtone/dialtone/phone"
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
