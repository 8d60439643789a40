package pcap

import (
	"io"
	"runtime"
	"testing"
)

// BenchmarkWriteMedia is what a captured 172-byte RTP packet costs in all: queued on the
// media path, then written by the drain goroutine (to a discarding file); the producer waits
// for a free slot instead of dropping, so every packet is written.
func BenchmarkWriteMedia(b *testing.B) {
	w, err := NewWriter(io.Discard, Options{MaxBytes: 1 << 62})
	if err != nil {
		b.Fatal(err)
	}
	rtp := make([]byte, 172)
	b.ReportAllocs()
	for b.Loop() {
		for !w.WriteMedia(alice, bob, rtp, false) {
			runtime.Gosched()
		}
	}
	w.Close()
	if st := w.Stats(); st.Packets != uint64(b.N) {
		b.Fatalf("%d packets written of %d", st.Packets, b.N)
	}
}

// BenchmarkWriteMediaQueue is the media path's own cost: the copy into a free slot (the
// queue is drained meanwhile; a full queue drops, which costs less).
func BenchmarkWriteMediaQueue(b *testing.B) {
	w, err := NewWriter(io.Discard, Options{MaxBytes: 1 << 62})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	rtp := make([]byte, 172)
	b.ReportAllocs()
	for b.Loop() {
		if !w.WriteMedia(alice, bob, rtp, false) {
			b.StopTimer()
			for len(w.queue) > 0 {
				runtime.Gosched()
			}
			b.StartTimer()
		}
	}
}

// BenchmarkWriteSIP is one SIP message over UDP, written and flushed at once.
func BenchmarkWriteSIP(b *testing.B) {
	w, err := NewWriter(io.Discard, Options{MaxBytes: 1 << 62})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	b.ReportAllocs()
	for b.Loop() {
		w.WriteSIP("UDP", true, alice, bob, []byte(invite))
	}
}
