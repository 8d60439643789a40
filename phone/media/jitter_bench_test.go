package media

import (
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
// pays for the pitch search (the expensive part) and the synthesis.
func BenchmarkPLCConceal(b *testing.B) {
	p := NewPLC()
	good := sineAt(440, 0, testFrame)
	out := make([]int16, testFrame)
	for i := 0; i < 5; i++ {
		p.Good(good)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Good(good)
		p.Conceal(out)
	}
}

// BenchmarkPLCGood is the cost every received frame pays: recording it in the history.
func BenchmarkPLCGood(b *testing.B) {
	p := NewPLC()
	good := sineAt(440, 0, testFrame)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Good(good)
	}
}
