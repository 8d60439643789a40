package calls

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
)

// sparkLen is how many statistics reports a sparkline shows: 30 reports of about 5 s, the
// last two and a half minutes of the call.
const sparkLen = 30

// sparkBlocks are the eight levels of a sparkline, lowest first.
var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// trend is a call's recent loss and jitter, one sample per statistics report.
type trend struct {
	loss   []float64 // percent of the frames expected since the previous report
	jitter []time.Duration
	prev   phone.StreamStats // the previous report's counters
}

// add records a report: the loss since the previous one (the counters are cumulative) and the
// jitter now. A report while the call is on hold only moves the counters on: no audio flows
// then by design, and the jitter buffer counts the stream's end as missing frames (taking
// them back later, so the lost count can fall: spans are clamped at zero).
func (t *trend) add(s phone.StreamStats, onHold bool) {
	prev := t.prev
	if s.PacketsReceived < prev.PacketsReceived { // a new media session: counters from zero
		prev = phone.StreamStats{}
	}
	t.prev = s
	if onHold {
		return
	}
	lost := float64(s.Lost) - float64(prev.Lost)
	recv := float64(s.PacketsReceived) - float64(prev.PacketsReceived)
	loss := 0.0
	if lost > 0 && lost+recv > 0 {
		loss = 100 * lost / (lost + recv)
	}
	t.loss = push(t.loss, loss)
	t.jitter = push(t.jitter, s.Jitter)
}

func push[T any](s []T, v T) []T {
	if len(s) == sparkLen {
		s = append(s[:0], s[1:]...)
	}
	return append(s, v)
}

// sparkline draws values on a fixed scale: the lowest bar is 0, the next anything below one
// step, then one bar per step up to the highest, step·6 or more. A fixed scale keeps 0.2 %
// loss looking small.
func sparkline(values []float64, step float64) string {
	var b strings.Builder
	for _, v := range values {
		level := 0
		if v > 0 {
			level = min(len(sparkBlocks)-1, int(v/step)+1)
		}
		b.WriteRune(sparkBlocks[level])
	}
	return b.String()
}

// mosLabel is the estimate the row shows, e.g. "MOS 4.3"; below 3.6 (R 70, where G.107 has
// many users dissatisfied) it takes the warning style.
func mosLabel(ok, bad lipgloss.Style, mos float64) string {
	st := ok
	if mos < 3.6 {
		st = bad
	}
	return st.Render(fmt.Sprintf("MOS %.1f", mos))
}

// detail is the line under the selected call while it is in progress: the MOS (two decimals)
// with its R, loss and jitter over the last reports as sparklines (1 % loss and 5 ms of jitter
// a level: the top bar is 6 % and 30 ms, past the warning marks) with the newest values, and
// the round trip.
func (m *Model) detail(c *Call) string {
	if c.Stats == nil || !c.InCall() || len(c.trend.loss) == 0 {
		return ""
	}
	st, s := m.c.Styles, *c.Stats
	jit := make([]float64, len(c.trend.jitter))
	for i, j := range c.trend.jitter {
		jit[i] = float64(j) / float64(time.Millisecond)
	}
	parts := []string{}
	if s.MOS > 0 {
		mos := st.Stat
		if s.MOS < 3.6 {
			mos = st.StatBad
		}
		parts = append(parts, mos.Render(fmt.Sprintf("MOS %.2f", s.MOS))+st.Stat.Render(fmt.Sprintf(" (R %.0f)", s.R)))
	}
	// The figures after the sparklines are the newest report's: loss since the report before.
	lossNow := c.trend.loss[len(c.trend.loss)-1]
	parts = append(parts,
		st.Stat.Render("loss "+sparkline(c.trend.loss, 1)+fmt.Sprintf(" %.1f%% now", lossNow)),
		st.Stat.Render("jitter "+sparkline(jit, 5)+fmt.Sprintf(" %dms", s.Jitter.Milliseconds())))
	if s.RTT > 0 {
		parts = append(parts, st.Stat.Render(fmt.Sprintf("rtt %dms", s.RTT.Milliseconds())))
	}
	return common.PadRight(common.Truncate("      "+strings.Join(parts, "  "), m.width), m.width)
}
