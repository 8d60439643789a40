package media

import (
	"net/netip"
	"testing"
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// FuzzReceiveRTCP feeds arbitrary datagrams from the far end's RTCP address through the same
// steps as readRTCP (source check, then handleRTCP), then builds our next report from what
// they left behind (the last SR's time, the round-trip time): sender and receiver reports with
// lying lengths and counts, SDES, BYE, APP, compound packets, truncation. Nothing may panic;
// a datagram that pion/rtcp cannot read must not count as RTCP activity (it would keep a dead
// call alive past the RTP timeout); the round-trip time stays within what 32-bit NTP middles
// can express; and our own report stays a well-formed RTCP packet whatever came in.
//
// The seed corpus is testdata/fuzz/FuzzReceiveRTCP, one file per case, named for what it is.
func FuzzReceiveRTCP(f *testing.F) {
	const ourSSRC = 0x11223344
	// Seeds built here too, so that `go test` checks them even without the files.
	for _, pkts := range [][]rtcp.Packet{
		{&rtcp.SenderReport{SSRC: 9, NTPTime: 0xe5a1_0000_8000_0000, RTPTime: 160, PacketCount: 1, OctetCount: 160,
			Reports: []rtcp.ReceptionReport{{SSRC: ourSSRC, LastSenderReport: 0x0001_0000, Delay: 0x10}}}},
		{&rtcp.ReceiverReport{SSRC: 9, Reports: []rtcp.ReceptionReport{{SSRC: 1, FractionLost: 255, TotalLost: 0xffffff, LastSenderReport: 0xffff_ffff, Delay: 0xffff_ffff}}}},
		{&rtcp.ReceiverReport{SSRC: 9}, &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 9, Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "far@end"}}}}}},
		{&rtcp.Goodbye{Sources: []uint32{9}, Reason: "bye"}},
	} {
		b, err := rtcp.Marshal(pkts)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-1])
	}
	peer := netip.MustParseAddrPort("127.0.0.1:40000")
	peerRTCP := netip.MustParseAddrPort("127.0.0.1:40001")
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	p := Params{Remote: peer, Codec: codec.PCMA, DTMFPT: 101, Receive: true, Send: true}
	s.tx.ssrc = ourSSRC // the seeds' report blocks are about our stream: the round-trip path
	s.Update(p)
	now := time.Unix(1_700_000_000, 0)
	s.now = func() time.Time { return now }
	// One RTP packet from the far end, so that our reports carry a reception report block
	// whose LSR and DLSR come from the fuzzed sender reports.
	var pkt rtp.Packet
	good := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: codec.PCMA.PayloadType(), SequenceNumber: 1, Timestamp: 160, SSRC: 1}, Payload: make([]byte, 160)}
	gb, _ := good.Marshal()
	s.handleRTP(gb, peer, &pkt)
	buf := make([]byte, rtcpReportMax)
	f.Fuzz(func(t *testing.T, b []byte) {
		now = now.Add(20 * time.Millisecond)
		before := s.stats.lastRTCP.Load()
		if !s.fromFarEndRTCP(peerRTCP) {
			t.Fatal("the far end's RTCP address is refused")
		}
		s.handleRTCP(b, now)
		counted := s.stats.lastRTCP.Load() != before
		if _, err := rtcp.Unmarshal(b); (err == nil) != counted {
			t.Fatalf("unmarshal error %v, but counted as RTCP activity: %v", err, counted)
		}
		if rtt := s.Stats().RTT; rtt < 0 || rtt > 1<<16*time.Second {
			t.Fatalf("round-trip time %v", rtt)
		}
		for _, send := range []bool{true, false} {
			p.Send = send
			out := s.marshalReport(buf, p, now)
			got, err := rtcp.Unmarshal(out)
			if err != nil || len(got) != 1 {
				t.Fatalf("our report % x does not parse: %v", out, err)
			}
		}
	})
}
