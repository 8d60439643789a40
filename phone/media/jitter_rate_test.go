package media

import (
	"encoding/binary"
	"testing"
	"time"
)

// TestJitterSetClockRate: a codec change from an 8000 to a 48000 clock mid-stream discards
// what the old codec left buffered (counted, so every packet is still accounted for), keeps
// the counters, and then plays the new stream one packet per tick, its 960-unit timestamp
// steps being 20 ms each; the jitter it reports stays in milliseconds.
func TestJitterSetClockRate(t *testing.T) {
	jb := NewJitterBuffer(JitterConfig{})
	old := stream(1, 0, 0, 20, regular)
	ticks := simulate(t, jb, old[:12], t0.Add(tick/2), 12)
	for _, p := range old[12:15] {
		jb.Push(p) // three packets of the old codec still buffered at the change
	}
	before := jb.Stats()
	if before.Buffered == 0 || len(playedSeqs(ticks)) == 0 {
		t.Fatalf("the old stream did not play or buffer: %+v", before)
	}
	jb.SetClockRate(48000)
	after := jb.Stats()
	if after.Discarded != before.Discarded+uint64(before.Buffered) || after.Played != before.Played || after.Resyncs != before.Resyncs+1 {
		t.Fatalf("counters after the change %+v, before %+v", after, before)
	}
	if jb.ClockRate() != 48000 {
		t.Fatalf("clock %d", jb.ClockRate())
	}
	jb.SetClockRate(48000) // the session calls it for every packet: the same rate is a no-op
	if s := jb.Stats(); s.Resyncs != after.Resyncs {
		t.Fatal("the same clock rate resynced the stream")
	}
	start := t0.Add(time.Second)
	wide := make([]Packet, 50)
	for i := range wide {
		// 1 ms of jitter on odd packets: 48 units at 48 kHz.
		at := start.Add(time.Duration(i) * tick)
		if i%2 == 1 {
			at = at.Add(time.Millisecond)
		}
		wide[i] = mkPacket(1, uint16(100+i), 123456+uint32(i)*960, at)
	}
	pops := before.Played + before.Lost + before.Inserted + before.Idle
	ticks = simulate(t, jb, wide, start.Add(tick/2), 55)
	checkInvariants(t, jb, pops+55)
	seqs := playedSeqs(ticks)
	if len(seqs) < 45 {
		t.Fatalf("played %d of 50 packets at the new clock", len(seqs))
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("played %v: not one packet per tick", seqs)
		}
	}
	if j := jb.Stats().Jitter; j < 500*time.Microsecond || j > 1500*time.Millisecond/1000 {
		t.Fatalf("jitter %v, want about 1 ms", j)
	}
}

// TestJitterNext: after a Missing tick, Next gives the packet the next Pop plays (for FEC),
// without taking it; with nothing there it reports false.
func TestJitterNext(t *testing.T) {
	jb := NewJitterBuffer(JitterConfig{})
	if _, ok := jb.Next(); ok {
		t.Fatal("Next on an empty buffer")
	}
	pkts := stream(1, 0, 0, 12, regular)
	pkts = append(pkts[:4], pkts[5:]...) // packet 4 is lost
	// Playout two and a half frames behind arrival: the packet after a loss is buffered when
	// the loss is played, as a jitter buffer a few frames deep has it.
	next, missing := 0, false
	for k := 0; k < 10 && !missing; k++ {
		now := t0.Add(5*tick/2 + time.Duration(k)*tick)
		for next < len(pkts) && !pkts[next].Arrival.After(now) {
			jb.Push(pkts[next])
			next++
		}
		_, st := jb.Pop(now)
		if st != Missing {
			continue
		}
		missing = true
		payload, ok := jb.Next()
		if !ok || binary.BigEndian.Uint16(payload) != 5 {
			t.Fatalf("after the loss Next = %v, %v; want packet 5", payload, ok)
		}
		if again, ok := jb.Next(); !ok || binary.BigEndian.Uint16(again) != 5 {
			t.Fatal("Next took the packet")
		}
		payload, st = jb.Pop(now.Add(tick))
		if st != Played || binary.BigEndian.Uint16(payload) != 5 {
			t.Fatalf("the Pop after Next: %v; want packet 5 played", st)
		}
	}
	if !missing {
		t.Fatal("the lost packet was never reported Missing")
	}
}
