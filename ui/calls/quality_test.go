package calls

import (
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone"
)

func TestSparklineScale(t *testing.T) {
	if got := sparkline([]float64{0, 0.5, 1, 2.5, 5.5, 6, 50}, 1); got != "▁▂▃▄▇██" {
		t.Errorf("sparkline = %q", got)
	}
	if got := sparkline(nil, 1); got != "" {
		t.Errorf("empty sparkline = %q", got)
	}
}

// The trend keeps the loss of each report's window (the counters are cumulative), the last
// sparkLen reports only, starts over when the counters do, leaves reports on hold out and
// takes a falling lost count (frames the jitter buffer took back) as no loss.
func TestTrend(t *testing.T) {
	var tr trend
	tr.add(phone.StreamStats{PacketsReceived: 250, Jitter: time.Millisecond}, false)
	tr.add(phone.StreamStats{PacketsReceived: 490, Lost: 10, Jitter: 2 * time.Millisecond}, false)
	if tr.loss[0] != 0 || tr.loss[1] != 4 || tr.jitter[1] != 2*time.Millisecond {
		t.Fatalf("trend %+v, want loss 0 then 4 %%", tr)
	}
	tr.add(phone.StreamStats{PacketsReceived: 50, Lost: 50}, false) // a new media session
	if got := tr.loss[2]; got != 50 {
		t.Errorf("loss after the counters restarted: %v, want 50", got)
	}
	tr.add(phone.StreamStats{PacketsReceived: 60, Lost: 75}, true) // on hold
	if len(tr.loss) != 3 {
		t.Errorf("a report on hold was drawn: %v", tr.loss)
	}
	tr.add(phone.StreamStats{PacketsReceived: 310, Lost: 50}, false) // resumed; 25 taken back
	if got := tr.loss[3]; got != 0 {
		t.Errorf("loss after frames were taken back: %v, want 0", got)
	}
	for i := 0; i < 2*sparkLen; i++ {
		tr.add(phone.StreamStats{PacketsReceived: uint64(1000 + 250*i)}, false)
	}
	if len(tr.loss) != sparkLen || len(tr.jitter) != sparkLen || tr.loss[0] != 0 {
		t.Errorf("trend holds %d/%d samples, want %d", len(tr.loss), len(tr.jitter), sparkLen)
	}
}
