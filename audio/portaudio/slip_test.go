//go:build cgo && !noportaudio

package portaudio

import (
	"testing"
	"time"
)

// Slips are counted where the device's stream moves against the frames read and written:
// silence played between written frames and written audio dropped unplayed (playback),
// captured audio dropped and silence made up for a short Read (capture). The silence before
// playback first starts is no slip.
func TestRingCountsSlips(t *testing.T) {
	play := newRing(1000, 200)
	play.setRate(8000, true)
	out := make([]int16, 160)
	play.pull(out) // not started: no slip
	play.push(seq(0, 240))
	play.pull(out) // starts: 80 left
	play.pull(out) // 80 played, 80 silence
	if got := play.snapshot().Slipped; got != 10*time.Millisecond {
		t.Fatalf("playback: %v slipped after 80 samples of silence, want 10ms", got)
	}
	play.pull(out) // dry, waiting for its prefill: 160 more
	play.push(seq(0, 1000))
	play.push(seq(0, 80)) // 80 dropped unplayed
	if got := play.snapshot().Slipped; got != 20*time.Millisecond {
		t.Fatalf("playback: %v slipped, want 30ms of silence less 10ms dropped", got)
	}

	capt := newRing(400, 0)
	capt.setRate(8000, false)
	if capt.take(out) {
		t.Fatal("take from an empty ring")
	}
	capt.push(seq(0, 480)) // 80 dropped
	if got := capt.snapshot().Slipped; got != -10*time.Millisecond {
		t.Fatalf("capture: %v slipped, want -20ms for the short Read + 10ms dropped", got)
	}
}

// A backlog the ring never needed over keepWindow goes, down to keepMargin at its emptiest,
// the frame after the trim starting where the dropped audio ended; it counts as a slip.
func TestRingKeepsLatencyDown(t *testing.T) {
	const rate = 8000
	r := newRing(rate/5, 0)
	r.setRate(rate, false)
	frame := make([]int16, 160)
	next := 0
	r.push(seq(next, 800)) // a start-up burst: 100 ms queued
	next += 800
	for k := range 150 { // 3 s of a Read and a 20 ms block each 20 ms
		if !r.take(frame) {
			t.Fatalf("read %d came up short", k)
		}
		r.push(seq(next, 160))
		next += 160
	}
	st := r.snapshot()
	margin := rate * int(keepMargin/time.Millisecond) / 1000
	if st.Buffered-160 != margin {
		t.Errorf("after 3 s %d samples wait beyond the next frame, want the margin %d", st.Buffered-160, margin)
	}
	if want := time.Duration(st.Skipped) * time.Second / rate; st.Skipped == 0 || st.Slipped != want {
		t.Errorf("skipped %d samples, slipped %v: want some, and the slip to be them (%v)", st.Skipped, st.Slipped, want)
	}
	// The audio stays in order: the frame read is the one that follows what was dropped.
	r.take(frame)
	if d := frame[1] - frame[0]; d != 1 {
		t.Errorf("a frame after the trim is not contiguous: %v", frame[:4])
	}
}
