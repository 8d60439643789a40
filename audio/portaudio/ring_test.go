//go:build cgo && !noportaudio

package portaudio

import (
	"slices"
	"testing"
)

func seq(from, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(from + i)
	}
	return s
}

func TestRingTakeDropsOldestAndCounts(t *testing.T) {
	r := newRing(10, 0)
	buf := make([]int16, 4)
	if r.take(buf) {
		t.Fatal("take from an empty ring succeeded")
	}
	r.push(seq(0, 6))
	r.push(seq(6, 6)) // 12 into 10: samples 0 and 1 go
	if st := r.snapshot(); st.Overruns != 1 || st.Dropped != 2 || st.Buffered != 10 || st.Underruns != 1 {
		t.Fatalf("stats %+v", st)
	}
	for _, want := range [][]int16{seq(2, 4), seq(6, 4)} { // crosses the wrap
		if !r.take(buf) || !slices.Equal(buf, want) {
			t.Fatalf("take = %v, want %v", buf, want)
		}
	}
	if r.take(buf) { // 2 left: too few, and they stay
		t.Fatal("partial take succeeded")
	}
	r.push(seq(12, 2))
	if !r.take(buf) || !slices.Equal(buf, seq(10, 4)) {
		t.Fatalf("take = %v", buf)
	}
	r.push(seq(100, 25)) // more than the whole ring: only the newest 10 remain
	big := make([]int16, 10)
	if !r.take(big) || !slices.Equal(big, seq(115, 10)) {
		t.Fatalf("take = %v", big)
	}
}

func TestRingPullPrefillsAfterUnderrun(t *testing.T) {
	r := newRing(20, 6)
	out := make([]int16, 4)
	r.pull(out) // before the first Write: silence, not an underrun
	if !slices.Equal(out, make([]int16, 4)) || r.snapshot().Underruns != 0 {
		t.Fatalf("startup: %v %+v", out, r.snapshot())
	}
	r.push(seq(1, 4))
	r.pull(out) // 4 < prefill 6: still silence
	if !slices.Equal(out, make([]int16, 4)) {
		t.Fatalf("before prefill: %v", out)
	}
	r.push(seq(5, 4))
	r.pull(out)
	if !slices.Equal(out, seq(1, 4)) {
		t.Fatalf("after prefill: %v", out)
	}
	r.pull(out) // 4 left
	r.pull(out) // dry: silence, one underrun
	r.pull(out) // still dry: same underrun
	if !slices.Equal(out, make([]int16, 4)) || r.snapshot().Underruns != 1 {
		t.Fatalf("dry: %v %+v", out, r.snapshot())
	}
	r.push(seq(50, 3))
	r.pull(out) // below prefill again: silence
	if !slices.Equal(out, make([]int16, 4)) {
		t.Fatalf("refill: %v", out)
	}
}
