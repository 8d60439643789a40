package media

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/dialtone/dialtone/codec"
	"github.com/dialtone/dialtone/phone/srtp"
)

// TestSRTPKeyedByUpdate: Update (and so Start) makes the SRTP stream in the caller's
// goroutine, so the first packet after it (on the pacer's tick) allocates nothing; the same
// *Keys keeps the stream and its state, another *Keys (even with equal contents) re-keys with
// the counters kept; Params from before an Update keep the stream they were made with, and
// using them does not bring the old keys back into force.
func TestSRTPKeyedByUpdate(t *testing.T) {
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ka, _ := swappedKeys(t, srtp.AESCM128HMACSHA180)
	s.Update(Params{Remote: netip.MustParseAddrPort("127.0.0.1:9"), Codec: codec.PCMU, SRTP: ka})
	p1 := s.current()
	c1 := s.srtp.cur.Load()
	if c1 == nil || c1.keys != ka || c1.stream == nil || p1.srtp != c1 {
		t.Fatalf("after Update: stream in force %+v, the Params carry %p", c1, p1.srtp)
	}

	buf := make([]byte, sendBufLen)
	seq := uint16(0)
	protect := func(p Params) (*srtp.Stream, bool) {
		seq++
		h := rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 5}
		if _, err := h.MarshalTo(buf[:rtpHeaderRoom]); err != nil {
			t.Fatal(err)
		}
		_, ok := s.protectRTP(p, buf[:rtpHeaderRoom+160], &h)
		st, _ := s.srtpStream(p)
		return st, ok
	}
	if !srtpRaceEnabled {
		// One packet, measured alone (AllocsPerRun's warm-up run would hide keying on the
		// first). What a context allocates on its first use (pion's state for a new SSRC, the
		// HMAC's saved pads) stays; keying (pion's CreateContext, measured here beside it)
		// must not be there.
		mallocs := func(f func()) uint64 {
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			f()
			runtime.ReadMemStats(&m1)
			return m1.Mallocs - m0.Mallocs
		}
		var ok bool
		first := mallocs(func() { _, ok = protect(p1) })
		keying := mallocs(func() {
			if _, err := srtp.NewStream(*ka); err != nil {
				t.Fatal(err)
			}
		})
		if !ok || first >= keying/2 {
			t.Fatalf("the first packet after Update: sent %v, %d allocations; keying takes %d (keyed on the packet path?)", ok, first, keying)
		}
		t.Logf("first packet after Update: %d allocations (a context's first use); keying: %d", first, keying)
	} else if _, ok := protect(p1); !ok {
		t.Fatal("the first packet after Update was not sent")
	}

	s.Update(p1) // the same *Keys: the same stream, its rollover counter and replay window
	if c := s.srtp.cur.Load(); c != c1 || s.current().srtp != c1 {
		t.Fatal("an Update with the same *Keys made a new stream")
	}

	same := *ka // equal contents, another pointer: the contract says re-key
	p2 := p1
	p2.SRTP = &same
	s.Update(p2)
	c2 := s.srtp.cur.Load()
	if c2 == c1 || c2.keys != &same || c2.stream == nil || c2.stream == c1.stream || s.current().srtp != c2 {
		t.Fatal("an Update with another *Keys kept the old stream")
	}
	if st, _ := s.SRTPStats(); st.Protected < 1 {
		t.Fatalf("the counters were not carried across the re-key: %+v", st)
	}

	// A frame in flight with the Params from before the Update keeps its own stream.
	if st, ok := protect(p1); !ok || st != c1.stream {
		t.Fatal("stale Params did not use the stream made for them")
	}
	if s.srtp.cur.Load() != c2 {
		t.Fatal("stale Params put the old keys back in force")
	}

	// Keys that cannot be used: Update says so once, and nothing is sent (never in clear).
	bad := &srtp.Keys{Local: srtp.Crypto{Tag: 1, Suite: srtp.AESCM128HMACSHA180, Key: []byte{1}}, Remote: ka.Remote}
	p3 := p1
	p3.SRTP = bad
	s.Update(p3)
	if c := s.current().srtp; c == nil || c.stream != nil {
		t.Fatalf("unusable keys: %+v", c)
	}
	if _, ok := protect(s.current()); ok {
		t.Fatal("a packet was sent with unusable keys")
	}
	s.Update(Params{Remote: p1.Remote, Codec: codec.PCMU}) // plain again: nothing carried
	if s.current().srtp != nil {
		t.Fatal("plain Params carry an SRTP stream")
	}
}

// TestSRTPShortRTCPBufferRefused: a report in a buffer without room for the SRTCP trailer
// is not sent (counted as failed), never sent in clear; the pacer's buffer has the room.
func TestSRTPShortRTCPBufferRefused(t *testing.T) {
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ka, _ := swappedKeys(t, srtp.AEADAES256GCM)
	s.Update(Params{Remote: netip.MustParseAddrPort("127.0.0.1:9"), Codec: codec.PCMU, Send: true, SRTP: ka})
	p := s.current()
	var short [rtcpReportMax]byte
	report := s.marshalReport(short[:], p, time.Unix(1000, 0))
	if _, ok := s.protectRTCP(p, report[:len(report):len(report)]); ok {
		t.Fatal("a report without room for the trailer was sent")
	}
	if st, _ := s.SRTPStats(); st.Failed != 1 || st.Protected != 0 {
		t.Fatalf("SRTP stats %+v, want the report counted as failed", st)
	}
	var st paceState
	report = s.marshalReport(st.rtcp[:], p, time.Unix(1000, 0))
	n := len(report)
	if w, ok := s.protectRTCP(p, report); !ok || len(w) != n+4+16 {
		t.Fatalf("the pacer's report buffer: sent %v, %d bytes for a %d-byte report", ok, len(w), n)
	}
}

// BenchmarkSRTPUpdateRekey is what an Update with new keys (a re-INVITE's SDES) costs its
// caller now that keying happens there and not on the pacer's tick: pion's contexts for the
// changed direction (here both), and the frame lock the Update waits for.
func BenchmarkSRTPUpdateRekey(b *testing.B) {
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	keys := make([]*srtp.Keys, 16)
	for i := range keys {
		keys[i], _ = swappedKeys(b, srtp.AESCM128HMACSHA180)
	}
	p := Params{Remote: netip.MustParseAddrPort("127.0.0.1:9"), Codec: codec.PCMU}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.SRTP = keys[i%len(keys)]
		s.Update(p)
		i++
	}
}
