package media

import (
	"bytes"
	"testing"
	"time"
)

// TestSlotMemoryFollowsThePayload: no slot memory before the first packet, a G.711 frame's
// worth per slot after it, and a bigger payload later grows every slot without losing
// what is buffered.
func TestSlotMemoryFollowsThePayload(t *testing.T) {
	jb := NewJitterBuffer(JitterConfig{})
	if jb.slotSize != 0 || jb.slots[0].buf != nil {
		t.Fatalf("slot memory before any packet: %d bytes a slot", jb.slotSize)
	}
	small := bytes.Repeat([]byte{1}, 160)
	jb.Push(Packet{Seq: 1, Timestamp: 0, SSRC: 9, Payload: small, Arrival: t0})
	if jb.slotSize != 192 {
		t.Fatalf("%d bytes a slot for 160-byte payloads, want 192", jb.slotSize)
	}
	big := bytes.Repeat([]byte{2}, 1000)
	jb.Push(Packet{Seq: 2, Timestamp: 160, SSRC: 9, Payload: big, Arrival: t0.Add(tick)})
	if jb.slotSize != 1024 {
		t.Fatalf("%d bytes a slot after a 1000-byte payload, want 1024", jb.slotSize)
	}
	var got [][]byte
	for i := 0; i < 10 && len(got) < 2; i++ {
		if p, st := jb.Pop(t0.Add(time.Duration(i)*tick + 5*time.Millisecond)); st == Played {
			got = append(got, bytes.Clone(p))
		}
	}
	if len(got) != 2 || !bytes.Equal(got[0], small) || !bytes.Equal(got[1], big) {
		t.Fatalf("played %d payloads, want the 160-byte one then the 1000-byte one intact", len(got))
	}
	jb.Reset()
	if jb.slotSize != 1024 {
		t.Fatal("Reset gave back the slot memory it should keep for the next call")
	}
}

// BenchmarkNewJitterBuffer is what setting up a call's buffer costs (rx.go's config),
// before and after its first packet.
func BenchmarkNewJitterBuffer(b *testing.B) {
	cfg := JitterConfig{MinDelay: 20 * time.Millisecond, MaxDelay: 300 * time.Millisecond, FrameDuration: 20 * time.Millisecond, ClockRate: 8000, Capacity: 64}
	payload := make([]byte, 160)
	b.Run("new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = NewJitterBuffer(cfg)
		}
	})
	b.Run("new+first-packet", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			NewJitterBuffer(cfg).Push(Packet{Seq: 1, SSRC: 1, Payload: payload, Arrival: t0})
		}
	})
}
