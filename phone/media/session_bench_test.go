package media

import (
	"net/netip"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// BenchmarkSendFrame is the whole send path for one 20 ms frame: source read, G.711 encode,
// RTP header marshal in place, UDP write to 127.0.0.1. Steady state must not allocate.
func BenchmarkSendFrame(b *testing.B) {
	sink, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	p := Params{Remote: sink.LocalAddr(), Codec: codec.PCMU, DTMFPT: 101, Send: true, Source: audiotest.NewTone(1000, 0.5)}
	pcm, buf := make([]int16, codec.FrameSamples), make([]byte, 1500)
	var pkt rtp.Packet
	b.ReportAllocs()
	for b.Loop() {
		s.tx.sendFrame(s, p, pcm, buf, &pkt)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/codec.FrameSamples, "ns/sample")
}

// BenchmarkReceiveFrame is the whole receive path for one frame: RTP unmarshal into a reused
// packet, source/SSRC/PT checks, jitter buffer push and pop, G.711 decode, concealment state,
// sink write. Steady state must not allocate.
func BenchmarkReceiveFrame(b *testing.B) {
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	peer := netip.MustParseAddrPort("127.0.0.1:40000")
	now := time.Unix(1000, 0)
	s.now = func() time.Time { return now }
	sink := audiotest.NewRecorder()
	p := Params{Remote: peer, Codec: codec.PCMU, DTMFPT: 101, Receive: true, Sink: discard{}}
	_ = sink
	s.Update(p)
	payload := make([]byte, 160)
	codec.PCMU.EncodeTo(payload, audiotest.NewTone(1000, 0.5).Samples(160))
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 5}, Payload: payload}
	wire := make([]byte, 1500)
	out := make([]int16, codec.FrameSamples)
	var rx rtp.Packet
	seq, ts := uint16(0), uint32(0)
	b.ReportAllocs()
	for b.Loop() {
		seq++
		ts += codec.FrameSamples
		now = now.Add(20 * time.Millisecond)
		pkt.SequenceNumber, pkt.Timestamp = seq, ts
		n, _ := pkt.MarshalTo(wire)
		s.handleRTP(wire[:n], peer, &rx)
		s.rx.playFrame(s, p, now, out)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/codec.FrameSamples, "ns/sample")
}

type discard struct{}

func (discard) Write([]int16) error { return nil }
func (discard) Close() error        { return nil }
