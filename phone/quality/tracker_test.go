package quality

import (
	"testing"
	"time"
)

const ms = time.Millisecond

// feed adds cumulative samples built from per-window (received, lost) pairs, 5 s apart.
func feed(tr *Tracker, windows [][2]uint64) []Rating {
	var s Sample
	var out []Rating
	for _, w := range windows {
		s.Received += w[0]
		s.Lost += w[1]
		s.Jitter, s.Playout, s.RTT = 4*ms, 40*ms, 30*ms
		r, _ := tr.Add(s)
		out = append(out, r)
	}
	return out
}

func TestTrackerWindows(t *testing.T) {
	tr := NewTracker(G711, 20*ms)
	if _, ok := tr.Add(Sample{}); ok {
		t.Fatal("a rating before any packet was expected")
	}
	if _, ok := tr.Summary(); ok {
		t.Fatal("a summary before any rating")
	}
	// 250 frames per 5 s window: clean, 5 % lost, clean again.
	rs := feed(tr, [][2]uint64{{250, 0}, {238, 12}, {250, 0}})
	want := func(loss float64) float64 {
		d := OneWayDelay(30*ms, 40*ms, 4*ms, 20*ms, G711)
		return Estimate(Input{Codec: G711, LossPct: loss, DelayMs: float64(d) / float64(ms)}).MOS
	}
	near(t, "clean window", rs[0].MOS, want(0), 1e-9)
	near(t, "lossy window", rs[1].MOS, want(100*12.0/250), 1e-9)
	near(t, "clean again", rs[2].MOS, want(0), 1e-9) // the window, not the whole call
	sum, ok := tr.Summary()
	if !ok {
		t.Fatal("no summary")
	}
	near(t, "summary min", sum.MOSMin, want(100*12.0/250), 1e-9)
	near(t, "summary avg", sum.MOSAvg, (2*want(0)+want(100*12.0/250))/3, 1e-9)
	near(t, "summary loss", sum.LossPct, 100*12.0/750, 1e-9)
	if sum.JitterMax != 4*ms || sum.RTT != 30*ms {
		t.Errorf("summary jitter %v rtt %v, want 4ms 30ms", sum.JitterMax, sum.RTT)
	}
}

// The report at hang-up often follows a periodic one by a moment: its few packets are rated
// together with the window before, not on their own.
func TestTrackerShortWindowMerges(t *testing.T) {
	tr := NewTracker(G711, 20*ms)
	rs := feed(tr, [][2]uint64{{250, 0}, {240, 10}, {3, 2}})
	whole := 100 * 12.0 / 255 // the previous window and the short one: 12 lost of 255
	d := OneWayDelay(30*ms, 40*ms, 4*ms, 20*ms, G711)
	near(t, "merged", rs[2].MOS, Estimate(Input{Codec: G711, LossPct: whole, DelayMs: float64(d) / float64(ms)}).MOS, 1e-9)
	// Nothing arrives nor goes missing (on hold): the last rating stands.
	r, ok := tr.Add(Sample{Received: 493, Lost: 12, Jitter: 4 * ms, RTT: 30 * ms, Playout: 40 * ms})
	if !ok || r != rs[2] {
		t.Errorf("idle window: %+v %v, want the last rating %+v", r, ok, rs[2])
	}
	sum, _ := tr.Summary()
	if sum.MOSMin != rs[2].MOS {
		t.Errorf("summary min %.3f, want the short window's worse %.3f", sum.MOSMin, rs[2].MOS)
	}
}

// A call shorter than one window still gets a rating and a summary.
func TestTrackerShortCall(t *testing.T) {
	tr := NewTracker(Opus, 0)
	r, ok := tr.Add(Sample{Received: 20, Lost: 0})
	if !ok || r.MOS < 4 {
		t.Fatalf("short clean call: %+v %v", r, ok)
	}
	sum, ok := tr.Summary()
	if !ok || sum.MOSMin != r.MOS || sum.MOSAvg != r.MOS {
		t.Errorf("summary %+v, want min = avg = %.3f", sum, r.MOS)
	}
}

// Counters that go backwards (a new media session) restart the windows instead of
// underflowing.
func TestTrackerCountersRestart(t *testing.T) {
	tr := NewTracker(G711, 20*ms)
	feed(tr, [][2]uint64{{250, 0}, {250, 0}})
	r, ok := tr.Add(Sample{Received: 100, Lost: 50})
	if !ok {
		t.Fatal("no rating")
	}
	near(t, "after restart", r.MOS, Estimate(Input{Codec: G711, LossPct: 100 * 50.0 / 150, DelayMs: 40}).MOS, 1e-9)
	tr.SetCodec(G722)
	if r2, _ := tr.Add(Sample{Received: 400, Lost: 50}); r2.R >= 93 {
		t.Errorf("G.722 rating %.2f: the codec change was not used", r2.R)
	}
}

// A held window is skipped: the rating before it stands, the summary leaves it out, and the
// jitter buffer taking its missing frames back afterwards (they were the sender's silence)
// neither restarts the windows nor counts as negative loss.
func TestTrackerSkipAndCorrection(t *testing.T) {
	tr := NewTracker(G711, 20*ms)
	s := Sample{Received: 250, Jitter: 4 * ms, Playout: 40 * ms}
	before, _ := tr.Add(s)
	s.Lost = 25 // the hold: the stream's end counted as missing
	if r, ok := tr.Skip(s); !ok || r != before {
		t.Fatalf("skip: %+v %v, want the rating before the hold %+v", r, ok, before)
	}
	s.Received, s.Lost = 500, 0 // resumed; the 25 were a silence after all
	after, ok := tr.Add(s)
	if !ok || after.MOS != before.MOS {
		t.Errorf("after the resume: %+v %v, want the clean %.3f", after, ok, before.MOS)
	}
	sum, _ := tr.Summary()
	if sum.LossPct != 0 || sum.MOSMin != before.MOS {
		t.Errorf("summary %+v: the hold counted", sum)
	}
	// A call that ends on hold: the tail is skipped too.
	s.Lost = 25
	tr.Skip(s)
	if sum, _ := tr.Summary(); sum.LossPct != 0 {
		t.Errorf("summary after ending on hold: loss %.2f%%, want 0", sum.LossPct)
	}
	// Nothing rated before a skip: no rating.
	if _, ok := NewTracker(G711, 0).Skip(Sample{Received: 10, Lost: 25}); ok {
		t.Error("a skip before any rating returned one")
	}
}

// TestTrackerFollowsThePacketDuration: a far end that sends 60 ms packets waits 60 ms to fill
// each: the windows rated after SetFrame count that delay, not a 20 ms frame's.
func TestTrackerFollowsThePacketDuration(t *testing.T) {
	tr := NewTracker(G711, 20*ms)
	r20 := feed(tr, [][2]uint64{{250, 0}})[0]
	tr.SetFrame(60 * ms)
	tr.SetFrame(0) // unknown: no change
	s := Sample{Received: 250 + 83, Jitter: 4 * ms, Playout: 40 * ms, RTT: 30 * ms}
	r60, _ := tr.Add(s)
	d := OneWayDelay(30*ms, 40*ms, 4*ms, 60*ms, G711)
	near(t, "60 ms packets", r60.MOS, Estimate(Input{Codec: G711, DelayMs: float64(d) / float64(ms)}).MOS, 1e-9)
	if r60.R >= r20.R {
		t.Errorf("R %v with 60 ms packets, not below %v with 20 ms", r60.R, r20.R)
	}
}
