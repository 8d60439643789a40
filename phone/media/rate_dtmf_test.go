package media

import (
	"testing"
	"time"

	"github.com/dialtone/dialtone/codec"
)

// TestDTMFDurationsInCodecClock: with a 48000 clock (Opus), an event's duration grows by 960
// per frame to DTMFDuration (5760 for 120 ms), in the clock the timestamps run in.
func TestDTMFDurationsInCodecClock(t *testing.T) {
	r := newDTMFRig(t, 101)
	r.p.Codec = fakeOpus
	r.s.Update(r.p)
	r.pcm = make([]int16, codec.MaxFrameSamples)
	if err := r.s.SendDTMF('5'); err != nil {
		t.Fatal(err)
	}
	var last codec.DTMFEvent
	for i := range 6 {
		got := r.frame()
		ev, err := codec.ParseDTMFEvent(got.Payload)
		if err != nil || got.PayloadType != 101 {
			t.Fatalf("frame %d: PT %d, %v", i, got.PayloadType, err)
		}
		if want := uint16(min(i+1, 6) * 960); ev.Duration != want {
			t.Fatalf("frame %d: duration %d, want %d", i, ev.Duration, want)
		}
		last = ev
	}
	if !last.End || last.Duration != 5760 {
		t.Fatalf("last packet %+v, want the End with 5760", last)
	}
	// A peer that offered telephone-event/8000 beside opus/48000: durations in its clock.
	for range 3 {
		r.frame() // the End repeats
	}
	r.p.DTMFRate = 8000
	r.s.Update(r.p)
	if err := r.s.SendDTMF('6'); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		got := r.frame()
		if got.PayloadType != 101 {
			continue // the gap between the digits
		}
		ev, err := codec.ParseDTMFEvent(got.Payload)
		if err != nil || ev.Event != 6 || ev.Duration != 160 {
			t.Fatalf("frame %d: %+v %v, want digit 6 with 160 (20 ms at 8000)", i, ev, err)
		}
		return
	}
	t.Fatal("the second digit was never sent")
}

// TestRTCPJitterInCodecClock: RFC 3550's interarrival jitter counts in the stream's clock: a
// packet 1 ms off its schedule is 48 units at 48 kHz, 8 at 8 kHz.
func TestRTCPJitterInCodecClock(t *testing.T) {
	for _, clock := range []int{8000, 48000} {
		var tx sender
		t0 := time.Unix(5000, 0)
		step := uint32(clock / 50)
		for i := range 200 {
			at := t0.Add(time.Duration(i) * frameDur)
			if i%2 == 1 {
				at = at.Add(time.Millisecond)
			}
			tx.noteReceived(1, uint16(i), uint32(i)*step, at, clock)
		}
		rr, _ := tx.reportBlock(t0)
		// Every transit difference is 1 ms: the estimate converges to it.
		if want := uint32(clock / 1000); rr.Jitter < want-1 || rr.Jitter > want {
			t.Fatalf("%d Hz: jitter %d units, want about %d (1 ms)", clock, rr.Jitter, want)
		}
	}
}
