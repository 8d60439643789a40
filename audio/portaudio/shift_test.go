//go:build cgo && !noportaudio

package portaudio

import (
	"slices"
	"testing"
	"time"
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

// TestSourceAhead: with 10 ms capture blocks and a frame just read, the next Read may move
// as far as the block that completes its frame (less captureJitter); a ring holding a frame
// already may be read at once; a ring that never had a block allows nothing.
func TestSourceAhead(t *testing.T) {
	src := &Source{s: &stream{ring: newRing(1600, 0)}}
	next := time.Now().Add(20 * time.Millisecond)
	if got := src.Ahead(next); got != 0 {
		t.Fatalf("no block yet: Ahead %v", got)
	}
	src.s.ring.push(seq(0, 80+30)) // a 110-sample block: 30 left after the frame below
	frame := make([]int16, 160)
	src.s.ring.push(seq(0, 80))
	if !src.s.ring.take(frame) {
		t.Fatal("take")
	}
	_, _, at := src.s.ring.fill()
	// 30 held, 130 needed: two more 80-sample (10 ms) blocks, the second 20 ms after the last.
	want := next.Sub(at.Add(20*time.Millisecond)) - captureJitter
	if got := src.Ahead(next); got != max(want, 0) {
		t.Fatalf("Ahead %v, want %v", got, max(want, 0))
	}
	if got := src.Ahead(at.Add(30 * time.Millisecond)); got != 10*time.Millisecond-captureJitter {
		t.Fatalf("next Read 30 ms after the last block: Ahead %v, want %v", got, 10*time.Millisecond-captureJitter)
	}
	src.s.ring.push(seq(0, 160))
	if got := src.Ahead(next); got <= 0 || got > 20*time.Millisecond {
		t.Fatalf("a frame held: Ahead %v, want until next", got)
	}
}
