package media

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtcp"
)

// TestReportMatchesPion: the hand-written sender and receiver reports are byte for byte what
// pion/rtcp marshals for the same values, with and without a reception report block.
func TestReportMatchesPion(t *testing.T) {
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Unix(1_800_000_000, 123_456_789)
	s.tx.octets = 160 * 77
	s.stats.sent.Store(77)
	buf := make([]byte, rtcpReportMax)
	for _, withBlock := range []bool{false, true} {
		if withBlock {
			for seq := uint16(65530); seq != 10; seq++ { // wraps: the extended sequence number counts a cycle
				if seq != 3 { // one lost
					s.tx.noteReceived(0xCAFE, seq, uint32(seq)*160, now.Add(time.Duration(seq)*time.Millisecond), 8000, true)
				}
			}
			s.tx.rs.lastSR, s.tx.rs.lastSRAt = 0x12345678, now.Add(-1500*time.Millisecond)
		}
		for _, send := range []bool{true, false} {
			p := Params{Remote: netip.MustParseAddrPort("127.0.0.1:9"), Codec: codec.PCMU, Send: send}
			saved := s.tx.rs
			got := bytes.Clone(s.marshalReport(buf, p, now))
			s.tx.rs = saved // reportBlock moves the interval counters on: give pion the same start
			var reports []rtcp.ReceptionReport
			if rr, ok := s.tx.reportBlock(now); ok {
				reports = append(reports, rr)
			}
			s.tx.rs = saved
			var pkt rtcp.Packet = &rtcp.ReceiverReport{SSRC: s.tx.ssrc, Reports: reports}
			if send {
				pkt = &rtcp.SenderReport{SSRC: s.tx.ssrc, NTPTime: ntpTime(now), RTPTime: s.tx.ts,
					PacketCount: 77, OctetCount: 160 * 77, Reports: reports}
			}
			want, err := pkt.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if withBlock != (len(reports) == 1) {
				t.Fatalf("block %v but %d reports", withBlock, len(reports))
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("send %v block %v:\n got  % x\n want % x", send, withBlock, got, want)
			}
		}
	}
}

// BenchmarkSendReport: a report every 5 s for each of a thousand sessions must not allocate.
func BenchmarkSendReport(b *testing.B) {
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	p := Params{Remote: netip.MustParseAddrPort("127.0.0.1:9"), Codec: codec.PCMU, Send: true}
	s.tx.noteReceived(1, 1, 160, time.Now(), 8000, true)
	buf := make([]byte, rtcpReportMax)
	b.ReportAllocs()
	for b.Loop() {
		s.sendRTCP(p, time.Now(), buf)
	}
}

// TestNeverArrivedAcrossARenumbering: a far end that restarts its sequence numbers without a
// new SSRC (a B2BUA re-bridging the call) is not counted thousands of packets lost (RFC 3550
// A.1: two packets in sequence after the jump confirm it); a real gap is counted, before and
// after the restart, and one stray packet far off counts nothing.
func TestNeverArrivedAcrossARenumbering(t *testing.T) {
	var tx sender
	t0 := time.Unix(1000, 0)
	n := 0
	note := func(seq uint16) {
		tx.noteReceived(7, seq, uint32(n)*160, t0.Add(time.Duration(n)*frameDur), 8000, true)
		n++
	}
	for s := uint16(65000); s != 100; s++ { // across the wrap, then 5 lost
		if s < 65010 || s > 65014 {
			note(s)
		}
	}
	if got := tx.neverArrived(); got != 5 {
		t.Fatalf("a gap of 5 across the wrap: %d never arrived", got)
	}
	note(40000) // a stray from far off: not a restart yet
	if got := tx.neverArrived(); got != 5 {
		t.Fatalf("after one stray: %d never arrived, want 5", got)
	}
	for s := uint16(20000); s < 20100; s++ { // the renumbered stream, 2 lost in it
		if s != 20050 && s != 20051 {
			note(s)
		}
	}
	if got := tx.neverArrived(); got != 7 {
		t.Fatalf("after the renumbering: %d never arrived, want 5 + 2", got)
	}
}
