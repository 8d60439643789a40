package srtp

import "testing"

// benchPayload is a 20 ms G.711 frame: 160 bytes after the 12-byte header, 172 in all.
const benchPayload = 160

// BenchmarkProtectRTP protects one 20 ms G.711 packet (172 bytes), ours beside libsrtp2's,
// for each suite. Ours must not allocate.
func BenchmarkProtectRTP(b *testing.B) {
	for _, su := range Suites {
		us, _ := pair(b, su)
		b.Run("dialtone/"+su.String(), func(b *testing.B) {
			buf := make([]byte, 1500)
			seq := uint16(0)
			b.ReportAllocs()
			for b.Loop() {
				seq++
				if _, err := us.ProtectRTP(rtpPacket(buf, seq, 0, 7, benchPayload)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("libsrtp2/"+su.String(), func(b *testing.B) {
			p := newPeer(b, us.Keys())
			buf := make([]byte, 1500)
			seq := uint16(0)
			b.ReportAllocs()
			for b.Loop() {
				seq++
				if _, err := p.out.ProtectRTP(buf, len(rtpPacket(buf, seq, 0, 7, benchPayload))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// protectedBatch fills batch with consecutive SRTP packets from us starting after *seq, for
// an unprotect benchmark (each index can be unprotected once: the replay window sees to it).
func protectedBatch(b *testing.B, us *Stream, batch [][]byte, seq *uint16) {
	buf := make([]byte, 1500)
	for i := range batch {
		*seq++
		w, err := us.ProtectRTP(rtpPacket(buf, *seq, uint32(*seq)*160, 7, benchPayload))
		if err != nil {
			b.Fatal(err)
		}
		batch[i] = append(batch[i][:0], w...)
	}
}

// BenchmarkUnprotectRTP unprotects one 20 ms G.711 SRTP packet, ours beside libsrtp2's; the
// packets are made in untimed batches, as each can be unprotected once.
func BenchmarkUnprotectRTP(b *testing.B) {
	const batchLen = 4096
	for _, su := range Suites {
		us, far := pair(b, su)
		run := func(b *testing.B, unprotect func(pkt []byte) error) {
			batch := make([][]byte, batchLen)
			for i := range batch {
				batch[i] = make([]byte, 0, 1500)
			}
			sender, _ := NewStream(far.Keys())
			seq := uint16(0)
			i := batchLen
			b.ReportAllocs()
			for b.Loop() {
				if i == batchLen {
					b.StopTimer()
					protectedBatch(b, sender, batch, &seq)
					i = 0
					b.StartTimer()
				}
				if err := unprotect(batch[i]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		}
		b.Run("dialtone/"+su.String(), func(b *testing.B) {
			rx, _ := NewStream(us.Keys())
			run(b, func(pkt []byte) error { _, err := rx.UnprotectRTP(pkt); return err })
		})
		b.Run("libsrtp2/"+su.String(), func(b *testing.B) {
			p := newPeer(b, far.Keys()) // unprotects with far's local key: what sender protects with
			run(b, func(pkt []byte) error { _, err := p.in.UnprotectRTP(pkt, len(pkt)); return err })
		})
	}
}

// BenchmarkNewStream is the cost of keying a call's stream (four contexts, eight session
// keys derived): paid once per call and per re-key, on the first packet's path.
func BenchmarkNewStream(b *testing.B) {
	for _, su := range Suites {
		us, _ := pair(b, su)
		b.Run(su.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NewStream(us.Keys()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
