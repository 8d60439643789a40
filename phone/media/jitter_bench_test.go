package media

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// BenchmarkJitterPushPop is the steady state of a call: one packet in, one frame out,
// every 20 ms, with a little reordering so the queue is never trivially empty.
func BenchmarkJitterPushPop(b *testing.B) {
	jb := NewJitterBuffer(JitterConfig{})
	payload := make([]byte, 160)
	push := func(i int) {
		at := t0.Add(time.Duration(i)*tick + time.Duration(i%3)*time.Millisecond)
		jb.Push(Packet{Seq: uint16(i), Timestamp: uint32(i * 160), SSRC: 1, Payload: payload, Arrival: at})
	}
	for i := 0; i < 100; i++ { // warm up past the initial buffering
		push(i)
		jb.Pop(t0.Add(time.Duration(i)*tick + 10*time.Millisecond))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 100; i < b.N+100; i++ {
		push(i)
		if _, st := jb.Pop(t0.Add(time.Duration(i)*tick + 10*time.Millisecond)); st != Played {
			b.Fatalf("tick %d: %v", i, st)
		}
	}
}

// BenchmarkPLCConceal conceals a 20 ms frame right after a good one, so every operation
// pays for the pitch search (the expensive part) and the synthesis; at each audio rate (the
// lengths, and so the work, scale with it).
func BenchmarkPLCConceal(b *testing.B) {
	for _, rate := range []int{8000, 16000, 48000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			p := NewPLCAt(rate)
			good := plcTone(rate)
			out := make([]int16, len(good))
			for i := 0; i < 5; i++ {
				p.Good(good)
			}
			b.ReportAllocs()
			for b.Loop() {
				p.Good(good)
				p.Conceal(out)
			}
		})
	}
}

// BenchmarkPLCGood is the cost every received frame pays: recording it in the history.
func BenchmarkPLCGood(b *testing.B) {
	for _, rate := range []int{8000, 16000, 48000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			p := NewPLCAt(rate)
			good := plcTone(rate)
			b.ReportAllocs()
			for b.Loop() {
				p.Good(good)
			}
		})
	}
}

// plcTone is one 20 ms frame of a 440 Hz tone at rate.
func plcTone(rate int) []int16 {
	out := make([]int16, rate/50)
	for i := range out {
		out[i] = int16(math.Round(testAmp * math.Sin(2*math.Pi*440*float64(i)/float64(rate)+0.7)))
	}
	return out
}
