package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// onStores runs bench on a history file and in memory: "file" includes the fsync that
// synchronous=FULL does on every commit, so it is the number to hold against "a few
// milliseconds"; "memory" is the SQL cost alone.
func onStores(b *testing.B, bench func(b *testing.B, s *Store)) {
	for _, tc := range []struct {
		name string
		open func(testing.TB) *Store
	}{
		{"file", func(tb testing.TB) *Store { return openFile(tb, tempDB(tb)) }},
		{"memory", newMemory},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := tc.open(b)
			b.ReportAllocs()
			bench(b, s)
		})
	}
}

// BenchmarkAddMessage measures what a caller waits for to store a message.
func BenchmarkAddMessage(b *testing.B) {
	onStores(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		m := incoming("sip:bench@example.com", "héllo ✓ a typical short instant message", time.Now())
		m.SIPCallID = "bench"
		i := uint32(0)
		for b.Loop() {
			m.CSeq = i
			i++
			if _, err := s.AddMessage(ctx, m); err != nil {
				b.Fatal(fmt.Errorf("message %d: %w", i, err))
			}
		}
	})
}

// BenchmarkAddCall is the history write at the end of every call.
func BenchmarkAddCall(b *testing.B) {
	onStores(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		start := time.Now()
		c := Call{Direction: Incoming, Account: "bench", Peer: "sip:bench@example.com", Start: start,
			Answer: start.Add(time.Second), End: start.Add(time.Minute), Code: 200, Reason: "OK", By: "remote",
			Duration: time.Minute, Codec: "PCMU"}
		i := 0
		for b.Loop() {
			i++
			c.CallID = fmt.Sprintf("bench-%d", i)
			if _, err := s.AddCall(ctx, c); err != nil {
				b.Fatal(fmt.Errorf("call %d: %w", i, err))
			}
		}
	})
}
