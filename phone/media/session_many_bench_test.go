package media

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// BenchmarkReceive1000Sessions is the whole receive path of 1000 calls for one 20 ms tick:
// for every session, one RTP packet read from its own UDP socket the way the pacer reads it
// (drainRTP: recvmmsg with the kernel's arrival times, until nothing is queued),
// checked, pushed into its jitter buffer, popped, decoded, concealment state updated, and
// written to a sink. The far end's sends happen with the timer stopped. ns/session-frame is
// one call's share; core-% is how much of one core 1000 calls' receiving takes. Issue 10
// target 7: no allocation per frame, at every rate (a sub-benchmark per codec).
//
//	go test ./phone/media/ -run '^$' -bench Receive1000 -benchmem
func BenchmarkReceive1000Sessions(b *testing.B) {
	for _, c := range benchCodecs() {
		b.Run(benchName(c), func(b *testing.B) { benchReceiveSessions(b, c) })
	}
}

func benchReceiveSessions(b *testing.B, c codec.Codec) {
	const calls = 1000
	far, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		b.Fatal(err)
	}
	defer far.Close()
	farAddr := far.LocalAddr().(*net.UDPAddr).AddrPort()
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	sessions := make([]*Session, calls)
	params := make([]Params, calls)
	pollers := make([]poller, calls)
	for i := range sessions {
		s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1"), Now: clock})
		if err != nil {
			b.Fatalf("session %d: %v", i, err)
		}
		defer s.Close()
		s.Update(Params{Remote: farAddr, Codec: c, DTMFPT: 101, Receive: true, Sink: discardAt{}})
		params[i] = s.current()
		sessions[i] = s
		pollers[i] = pollerFor(s.rtpIO) // what a started session's pacer reads with; nil off Linux
	}
	payload := encodedTone(b, c, 1000)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: c.PayloadType()}, Payload: payload}
	wire, buf := make([]byte, 1500), make([]byte, 1500)
	rb := new(recvBatch)
	out := make([]int16, codec.MaxFrameSamples)
	var rx rtp.Packet
	seq, ts := uint16(0), uint32(0)
	// round is one tick: the far end's packets sent (untimed when timed is set), then read and played.
	round := func(timed bool) {
		if timed {
			b.StopTimer()
		}
		seq++
		ts += codec.TimestampStep(c)
		for i, s := range sessions {
			pkt.SequenceNumber, pkt.Timestamp, pkt.SSRC = seq, ts, uint32(i+1)
			n, _ := pkt.MarshalTo(wire)
			if _, err := far.WriteToUDPAddrPort(wire[:n], s.LocalAddr()); err != nil {
				b.Fatal(err)
			}
		}
		now = now.Add(frameDur)
		if timed {
			b.StartTimer()
		}
		for i, s := range sessions {
			if pollers[i] != nil {
				// The pacer's own read at its tick (drainRTP's recvmmsg), with the packet stamped
				// by the simulated clock rather than the kernel's: against kernel times the
				// simulated playout would never start, and nothing would be decoded.
				n, err := pollers[i].pollBatch(rb)
				if err != nil || n != 1 {
					b.Fatalf("session %d: %d datagrams queued, %v", i, n, err)
				}
				pkt, from, _ := rb.datagram(0)
				s.handleRTPAt(pkt, from, &rx, now)
			} else {
				n, from, err := s.rtpIO.ReadFromUDPAddrPort(buf)
				if err != nil {
					b.Fatalf("session %d: %v", i, err)
				}
				s.handleRTP(buf[:n], from, &rx)
			}
			s.rx.playFrame(s, params[i], now, out)
		}
	}
	for range 5 {
		round(false) // the jitter buffers allocate their slots at the first packet: not the steady state
	}
	b.ReportAllocs()
	for b.Loop() {
		round(true)
	}
	perTick := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perTick/calls, "ns/session-frame")
	b.ReportMetric(100*perTick/float64(20*time.Millisecond), "core-%")
	var received, played uint64
	for _, s := range sessions {
		received += s.Stats().PacketsReceived
		played += s.rx.jitterStats().Played
	}
	if received == 0 || played < received/2 {
		b.Fatalf("%d packets accepted, %d played: the benchmark does not measure decoding", received, played)
	}
}
