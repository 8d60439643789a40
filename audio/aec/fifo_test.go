package aec

import (
	"math"
	"testing"
)

// Without drift the queue hands the played audio back untouched, only delayed by the depth
// the two streams settled at.
func TestFIFOExactWithoutDrift(t *testing.T) {
	const n = 160
	f := newRefFIFO(n, 8000)
	in, out := make([]int16, n), make([]int16, n)
	var played, got []int16
	f.push(in) // a frame of slack, as two streams have: the first frame is silence
	played = append(played, in...)
	for k := range 500 {
		for i := range in {
			in[i] = int16(1000 * math.Sin(float64(k*n+i)*0.3))
		}
		f.push(in)
		played = append(played, in...)
		f.pop(out)
		got = append(got, out...)
	}
	// The interpolator's look-ahead delays the reference by taps/2 samples.
	lag := taps / 2
	for i := lag; i < len(got); i++ {
		if got[i] != played[i-lag] {
			t.Fatalf("sample %d: got %d, want %d (played %d samples before)", i, got[i], played[i-lag], lag)
		}
	}
	if f.stats.DriftPPM != 0 || f.stats.Resyncs != 0 || f.stats.Duplicated != 0 {
		t.Errorf("stats %+v, want all zero", f.stats)
	}
}

// The speaker's clock 0.1 % fast for 10 simulated minutes: the loop finds the drift (to 350
// ppm: whole-frame writes only tell it a frame at a time, one per 20 s at 0.1 %) and the
// queue's depth stays bounded, nothing discarded. 0.1 % slow: the missing samples are held
// (as many as the drift makes missing), never more, and the depth stays bounded too.
func TestFIFOFollowsDrift(t *testing.T) {
	for _, drift := range []float64{0.001, -0.001, 0.0001} {
		const n, rate, reads = 160, 8000, 30000
		f := newRefFIFO(n, rate)
		in, out := make([]int16, n), make([]int16, n)
		written, maxDepth := 0, 0
		for k := range reads {
			for float64(written) <= float64(k+1)*(1+drift) {
				f.push(in)
				written++
			}
			f.pop(out)
			maxDepth = max(maxDepth, f.n)
		}
		t.Logf("drift %+.0f ppm: estimated %+.0f ppm, deepest %d samples, stats %+v", drift*1e6, f.stats.DriftPPM, maxDepth, f.stats)
		if maxDepth > 4*n || f.stats.Resyncs != 0 {
			t.Errorf("queue reached %d samples with %d resyncs; want under 4 frames, none", maxDepth, f.stats.Resyncs)
		}
		missing := -drift * reads * n
		switch {
		case drift > 0 && math.Abs(f.stats.DriftPPM-drift*1e6) > 350:
			t.Errorf("drift %+.0f ppm estimated as %+.0f", drift*1e6, f.stats.DriftPPM)
		case drift > 0 && f.stats.Duplicated != 0:
			t.Errorf("%d samples held with the speaker's clock fast", f.stats.Duplicated)
		case drift < 0 && math.Abs(float64(f.stats.Duplicated)-missing) > missing/10+n:
			t.Errorf("%d samples held, want about %.0f (the drift's)", f.stats.Duplicated, missing)
		}
	}
}

// A source that stops reading, then a burst: the queue stays bounded and resyncs.
func TestFIFODiscontinuities(t *testing.T) {
	const n = 160
	f := newRefFIFO(n, 8000)
	in, out := make([]int16, n), make([]int16, n)
	for range 100 { // playing, nobody reading
		f.push(in)
	}
	if f.n > len(f.buf) || f.stats.Resyncs == 0 {
		t.Errorf("after 100 unread frames: %d held, %d resyncs", f.n, f.stats.Resyncs)
	}
	for range 100 { // reading again, one frame each
		f.push(in)
		f.pop(out)
	}
	if f.n > resyncFrames*n+taps {
		t.Errorf("after catching up: %d samples held, want at most %d", f.n, resyncFrames*n+taps)
	}
	f.trimNewest(3 * n)
	f.reset()
	f.pop(out) // nothing played: silence, counted
	if f.stats.Silent == 0 {
		t.Error("an empty read was not counted as silent")
	}
	f.push(in[:50]) // a late, short write: the rest is held
	f.pop(out)
	if f.stats.Duplicated == 0 {
		t.Error("a short read repeated nothing")
	}
}
