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
// sparkLen reports only, and starts over when the counters do.
func TestTrend(t *testing.T) {
	var tr trend
	tr.add(phone.StreamStats{PacketsReceived: 250, Jitter: time.Millisecond})
	tr.add(phone.StreamStats{PacketsReceived: 490, Lost: 10, Jitter: 2 * time.Millisecond})
	if tr.loss[0] != 0 || tr.loss[1] != 4 || tr.jitter[1] != 2*time.Millisecond {
		t.Fatalf("trend %+v, want loss 0 then 4 %%", tr)
	}
	tr.add(phone.StreamStats{PacketsReceived: 50, Lost: 50}) // a new media session
	if got := tr.loss[2]; got != 50 {
		t.Errorf("loss after the counters restarted: %v, want 50", got)
	}
	for i := 0; i < 2*sparkLen; i++ {
		tr.add(phone.StreamStats{PacketsReceived: uint64(1000 + 250*i)})
	}
	if len(tr.loss) != sparkLen || len(tr.jitter) != sparkLen || tr.loss[0] != 0 {
		t.Errorf("trend holds %d/%d samples, want %d", len(tr.loss), len(tr.jitter), sparkLen)
	}
}
