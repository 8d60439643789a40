//go:build cgo && !noportaudio

package portaudio

import (
	"slices"
	"testing"
)

// TestRingTrimNewest: a playing ring drops the newest samples it is asked to (the
// concealment just queued), at most what it holds, and plays on from the oldest; a ring
// filling up to its prefill is left alone.
func TestRingTrimNewest(t *testing.T) {
	r := newRing(16, 4)
	r.push(seq(0, 3))
	if got := r.trimNewest(2); got != 0 || r.n != 3 {
		t.Fatalf("priming ring: trimmed %d, holds %d; want 0, 3", got, r.n)
	}
	r.push(seq(3, 5)) // 8 queued
	out := make([]int16, 2)
	r.pull(out)       // primes, plays 0 1
	r.push(seq(8, 8)) // 2..15 queued, the buffer wraps
	if got := r.trimNewest(5); got != 5 || r.n != 9 {
		t.Fatalf("trimmed %d, holds %d; want 5, 9", got, r.n)
	}
	rest := make([]int16, 9)
	r.pull(rest)
	if !slices.Equal(rest, seq(2, 9)) {
		t.Fatalf("after the trim the ring plays %v, want %v", rest, seq(2, 9))
	}
	r.push(seq(20, 2))
	r.pull(out[:1]) // playing again
	if got := r.trimNewest(10); got != 1 || r.n != 0 {
		t.Fatalf("trim beyond the fill: trimmed %d, holds %d; want 1, 0", got, r.n)
	}
}

// TestRingFill: fill reports what the ring holds and what the last push brought (a capture
// callback's block), which Source.Ahead turns into how early the next Read may come.
func TestRingFill(t *testing.T) {
	r := newRing(64, 0)
	r.push(seq(0, 160))
	r.push(seq(0, 40))
	if n, block := r.fill(); n != 64 || block != 40 {
		t.Fatalf("fill = %d, %d; want 64 (capacity), 40", n, block)
	}
}
