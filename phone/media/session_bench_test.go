package media

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// benchCodecs are the codecs the per-frame benchmarks run at, one per audio rate: G.711 at
// 8 kHz, the fake G.722 and Opus (rate_fake_test.go: µ-law per sample, so the figures are the
// media path's own, not a codec's) at 16 and 48 kHz, and the real Opus when the build has it.
func benchCodecs() []codec.Codec {
	cs := []codec.Codec{codec.PCMU, fakeG722, fakeOpus}
	for _, name := range []string{"G722", "opus"} {
		if c, ok := codec.ByName(name); ok {
			cs = append(cs, c)
		}
	}
	return cs
}

func benchName(c codec.Codec) string {
	kind := "real"
	if _, fake := c.(fakeWide); fake {
		kind = "fake"
	}
	return fmt.Sprintf("rate=%d/%s-%s", c.SampleRate(), c.Name(), kind)
}

// BenchmarkSendFrame is the whole send path for one 20 ms frame: source read (told the
// call's rate), encode, RTP header marshal in place, UDP write to 127.0.0.1. Steady state
// must not allocate, at every rate.
func BenchmarkSendFrame(b *testing.B) {
	for _, c := range benchCodecs() {
		b.Run(benchName(c), func(b *testing.B) { benchSendFrame(b, c) })
	}
}

func benchSendFrame(b *testing.B, c codec.Codec) {
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
	p := Params{Remote: sink.LocalAddr(), Codec: c, DTMFPT: 101, Send: true, Source: audiotest.NewTone(1000, 0.5)}
	pcm, buf := make([]int16, codec.MaxFrameSamples), make([]byte, sendBufLen)
	var pkt rtp.Packet
	s.tx.sendFrame(s, p, pcm, buf, &pkt) // the encoder and the source's rate come with the first frame
	b.ReportAllocs()
	for b.Loop() {
		s.tx.sendFrame(s, p, pcm, buf, &pkt)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(codec.FrameSamplesAt(c.SampleRate())), "ns/sample")
}

// BenchmarkReceiveFrame is the whole receive path for one frame: RTP unmarshal into a reused
// packet, source/SSRC/PT checks, jitter buffer push and pop, decode, concealment state,
// sink write. Steady state must not allocate, at every rate.
func BenchmarkReceiveFrame(b *testing.B) {
	for _, c := range benchCodecs() {
		b.Run(benchName(c), func(b *testing.B) { benchReceiveFrame(b, c) })
	}
}

func benchReceiveFrame(b *testing.B, c codec.Codec) {
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	peer := netip.MustParseAddrPort("127.0.0.1:40000")
	now := time.Unix(1000, 0)
	s.now = func() time.Time { return now }
	p := Params{Remote: peer, Codec: c, DTMFPT: 101, Receive: true, Sink: discardAt{}}
	s.Update(p)
	p = s.current()
	payload := encodedTone(b, c, 1000)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: c.PayloadType(), SSRC: 5}, Payload: payload}
	wire := make([]byte, 1500)
	out := make([]int16, codec.MaxFrameSamples)
	var rx rtp.Packet
	seq, ts := uint16(0), uint32(0)
	frame := func() {
		seq++
		ts += codec.TimestampStep(c)
		now = now.Add(20 * time.Millisecond)
		pkt.SequenceNumber, pkt.Timestamp = seq, ts
		n, _ := pkt.MarshalTo(wire)
		s.handleRTP(wire[:n], peer, &rx)
		s.rx.playFrame(s, p, now, out)
	}
	for range 5 {
		frame() // the jitter buffer's slots and the decoder come with the first packets
	}
	b.ReportAllocs()
	for b.Loop() {
		frame()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(codec.FrameSamplesAt(c.SampleRate())), "ns/sample")
}

// encodedTone is one frame of a tone at freq encoded with c.
func encodedTone(tb testing.TB, c codec.Codec, freq float64) []byte {
	tb.Helper()
	tone := audiotest.NewTone(freq, 0.5)
	if err := tone.SetRate(c.SampleRate()); err != nil {
		tb.Fatal(err)
	}
	buf := make([]byte, c.MaxPayload())
	n, err := c.NewEncoder().Encode(buf, tone.Samples(codec.FrameSamplesAt(c.SampleRate())))
	if err != nil {
		tb.Fatal(err)
	}
	return buf[:n]
}

type discard struct{}

func (discard) Write([]int16) error { return nil }
func (discard) Close() error        { return nil }
