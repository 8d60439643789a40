package media

import (
	"math"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// narrowSource and narrowSink hide a RateSetter: they move 8 kHz frames only, as a Source or
// Sink written before wideband calls does, so the session converts for them.
type narrowSource struct{ audio.Source }
type narrowSink struct{ audio.Sink }

// toneAfterStartup checks samples (at rate) carry freq, skipping the first third (the jitter
// buffer's start-up and any resampler's settling).
func toneAfterStartup(t *testing.T, what string, samples []int16, rate int, freq float64) {
	t.Helper()
	if len(samples) < rate/2 {
		t.Fatalf("%s: only %d samples at %d Hz", what, len(samples), rate)
	}
	s := samples[len(samples)/3:]
	if found, lvl, snr := audiotest.DetectTone(s, rate, freq); !found || lvl < -15 {
		t.Fatalf("%s: no %v Hz tone at %d Hz: level %.1f dBFS, snr %.1f dB", what, freq, rate, lvl, snr)
	}
}

// TestWidebandCallCarriesA6kHzTone is a call between two sessions over 127.0.0.1 with a
// wideband codec: a 6 kHz tone, which only a wideband call can carry, is found on the far
// side, at 16 kHz (G.722-like: 8000 RTP clock) and 48 kHz (Opus-like, with the dynamic
// payload type differing in each direction, as when the answer renumbers the offer's).
//
// It runs with the fake codecs (rate_fake_test.go) and with the real G.722 and Opus when the
// build has them.
func TestWidebandCallCarriesA6kHzTone(t *testing.T) {
	for _, c := range benchCodecs()[1:] { // all but PCMU
		t.Run(benchName(c), func(t *testing.T) {
			a, b := openPair(t)
			recA, recB := audiotest.NewRecorder(), audiotest.NewRecorder()
			ptA, ptB := 0, 0 // 0: the codec's own payload type both ways
			if c.ClockRate() == 48000 {
				ptA, ptB = 96, 111 // A sends 96 (B's offer), B sends 111 (A's answer)
			}
			a.Start(Params{Remote: b.LocalAddr(), Codec: c, PT: ptA, RecvPT: ptB, DTMFPT: 101, Send: true, Receive: true,
				Source: audiotest.NewTone(6000, 0.5), Sink: recA})
			b.Start(Params{Remote: a.LocalAddr(), Codec: c, PT: ptB, RecvPT: ptA, DTMFPT: 101, Send: true, Receive: true,
				Source: audiotest.NewTone(5000, 0.5), Sink: recB})
			time.Sleep(1200 * time.Millisecond) // real time: this is the network path, not a timed assertion
			for _, x := range []struct {
				name string
				rec  *audiotest.Recorder
				want float64
			}{{"A hears B", recA, 5000}, {"B hears A", recB, 6000}} {
				if x.rec.Rate() != c.SampleRate() {
					t.Fatalf("%s: sink told %d Hz, want %d", x.name, x.rec.Rate(), c.SampleRate())
				}
				toneAfterStartup(t, x.name, x.rec.SamplesAt(c.SampleRate()), c.SampleRate(), x.want)
			}
			if st := b.Stats(); st.Dropped > 0 {
				t.Fatalf("B dropped %d packets: the payload types did not match", st.Dropped)
			}
		})
	}
}

// TestTimestampStepPerCodec sends three frames of each codec and reads them: the RTP
// timestamp moves by the codec's clock per 20 ms (160 for G.711 and for G.722's 8000 clock,
// 960 for Opus), the payload type is Params.PT (or the codec's own), and the payload is a
// whole frame at the codec's audio rate.
func TestTimestampStepPerCodec(t *testing.T) {
	for _, x := range []struct {
		c       codec.Codec
		pt      int
		wantPT  uint8
		step    uint32
		payload int
	}{
		{codec.PCMU, 0, 0, 160, 160},
		{codec.PCMA, 0, 8, 160, 160},
		{fakeG722, 0, 9, 160, 320},
		{fakeOpus, 0, 111, 960, 960},
		{fakeOpus, 96, 96, 960, 960},
	} {
		t.Run(x.c.Name(), func(t *testing.T) {
			r := newDTMFRig(t, 101)
			r.p.Codec, r.p.PT = x.c, x.pt
			r.p.Source = audiotest.NewTone(1000, 0.5)
			r.s.Update(r.p)
			r.pcm = make([]int16, codec.MaxFrameSamples)
			var prev rtp.Packet
			for i := range 3 {
				got := r.frame()
				if got.PayloadType != x.wantPT || len(got.Payload) != x.payload {
					t.Fatalf("frame %d: PT %d with %d bytes, want PT %d with %d", i, got.PayloadType, len(got.Payload), x.wantPT, x.payload)
				}
				if i > 0 && got.Timestamp-prev.Timestamp != x.step {
					t.Fatalf("frame %d: timestamp moved %d, want %d", i, got.Timestamp-prev.Timestamp, x.step)
				}
				prev = got
			}
		})
	}
}

// TestCodecChangeMidCall switches a running call from PCMU to an Opus-like codec (8 kHz
// audio, 8000 clock to 48 kHz audio, 48000 clock) with Update, as a re-INVITE does: the sink
// and source are told the new rate between two frames, the tone carries on at it, and the
// receiver's jitter buffer counts in the new clock.
func TestCodecChangeMidCall(t *testing.T) {
	a, b := openPair(t)
	rec := audiotest.NewRecorder()
	tone := audiotest.NewTone(3000, 0.5)
	pa := Params{Remote: b.LocalAddr(), Codec: codec.PCMU, DTMFPT: 101, Send: true, Source: tone}
	pb := Params{Remote: a.LocalAddr(), Codec: codec.PCMU, DTMFPT: 101, Receive: true, Sink: rec}
	a.Start(pa)
	b.Start(pb)
	time.Sleep(800 * time.Millisecond)
	pa.Codec, pb.Codec = fakeOpus, fakeOpus
	b.Update(pb) // the receiver first, as the re-INVITE's answerer
	a.Update(pa)
	time.Sleep(1000 * time.Millisecond)
	if tone.Rate() != 48000 || rec.Rate() != 48000 {
		t.Fatalf("source at %d Hz, sink at %d Hz after the change; want 48000", tone.Rate(), rec.Rate())
	}
	if ch := rec.Rates(); len(ch) != 1 || ch[0].Rate != 48000 {
		t.Fatalf("sink rate changes %v, want one to 48000", ch)
	}
	toneAfterStartup(t, "before the change", rec.SamplesAt(8000), 8000, 3000)
	toneAfterStartup(t, "after the change", rec.SamplesAt(48000), 48000, 3000)
	b.rx.mu.Lock()
	clock := b.rx.jb.ClockRate()
	b.rx.mu.Unlock()
	if clock != 48000 {
		t.Fatalf("jitter buffer clock %d after the change, want 48000", clock)
	}
}

// TestNarrowSourceAndSinkInAWidebandCall: a Source and Sink that know nothing of rates still
// work in a 16 kHz call; the session converts their 8 kHz frames both ways.
func TestNarrowSourceAndSinkInAWidebandCall(t *testing.T) {
	a, b := openPair(t)
	rec := audiotest.NewRecorder()
	a.Start(Params{Remote: b.LocalAddr(), Codec: fakeG722, DTMFPT: 101, Send: true, Source: narrowSource{audiotest.NewTone(1000, 0.5)}})
	b.Start(Params{Remote: a.LocalAddr(), Codec: fakeG722, DTMFPT: 101, Receive: true, Sink: narrowSink{rec}})
	time.Sleep(1000 * time.Millisecond)
	if rec.Rate() != 8000 || len(rec.Rates()) != 0 {
		t.Fatalf("a sink without SetRate was told a rate: %d, %v", rec.Rate(), rec.Rates())
	}
	if n := len(rec.Samples()); n != rec.Frames()*codec.FrameSamples {
		t.Fatalf("%d samples in %d frames: not 8 kHz frames", n, rec.Frames())
	}
	toneAfterStartup(t, "converted both ways", rec.Samples(), 8000, 1000)
}

// rateRig is a receiving session fed packets by hand, at a test clock: the receive path
// without a network peer or timing.
type rateRig struct {
	s    *Session
	p    Params
	peer netip.AddrPort
	now  time.Time
	out  []int16
	rx   rtp.Packet
	wire []byte
}

func newRateRig(t testing.TB, c codec.Codec, sink audio.Sink) *rateRig {
	t.Helper()
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	r := &rateRig{s: s, peer: netip.MustParseAddrPort("127.0.0.1:40000"), now: time.Unix(1000, 0),
		out: make([]int16, codec.MaxFrameSamples), wire: make([]byte, 1500)}
	s.now = func() time.Time { return r.now }
	r.p = Params{Remote: r.peer, Codec: c, DTMFPT: 101, Receive: true, Sink: sink}
	s.Update(r.p)
	r.p = s.current()
	return r
}

// tick delivers frame f's packet (unless lost) and plays one frame.
func (r *rateRig) tick(f int, payload []byte, lost bool) {
	r.now = r.now.Add(frameDur)
	if !lost {
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: r.p.Codec.PayloadType(), SSRC: 7,
			SequenceNumber: uint16(f), Timestamp: uint32(f) * tsStep(r.p.Codec)}, Payload: payload}
		n, _ := pkt.MarshalTo(r.wire)
		r.s.handleRTP(r.wire[:n], r.peer, &r.rx)
	}
	r.s.rx.playFrame(r.s, r.p, r.now, r.out)
}

// TestCodecConcealmentAndFEC: when a frame is missing, a codec with its own concealment
// (Opus) conceals it instead of the generic PLC, and one with in-band FEC rebuilds it from
// the next packet when that is already in the jitter buffer.
func TestCodecConcealmentAndFEC(t *testing.T) {
	payload := make([]byte, codec.FrameSamplesAt(48000))
	codec.PCMU.EncodeTo(payload, audiotest.NewTone(1000, 0.5).Samples(len(payload)))
	for _, x := range []struct {
		name string
		c    fakeWide
		mark int16
	}{
		{"concealer", fakeWide{name: "opus", pt: 111, rate: 48000, clock: 48000, conceal: true}, fakeConcealMark},
		{"fec", fakeWide{name: "opus", pt: 111, rate: 48000, clock: 48000, conceal: true, fec: true}, fakeFECMark},
	} {
		t.Run(x.name, func(t *testing.T) {
			rec := audiotest.NewRecorder()
			r := newRateRig(t, x.c, rec)
			// Packets arrive two frames ahead of playout, so the one after a loss is buffered
			// when the loss is played.
			for f := 0; f < 3; f++ {
				r.now = r.now.Add(frameDur)
				pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SSRC: 7, SequenceNumber: uint16(f), Timestamp: uint32(f) * 960}, Payload: payload}
				n, _ := pkt.MarshalTo(r.wire)
				r.s.handleRTP(r.wire[:n], r.peer, &r.rx)
			}
			marked := 0
			for f := 3; f < 30; f++ {
				r.tick(f, payload, f == 10)
				if r.out[0] == x.mark && r.out[959] == x.mark {
					marked++
				}
			}
			if marked != 1 {
				t.Fatalf("%d frames came from the codec's %s, want the lost one only", marked, x.name)
			}
			if st := r.s.Stats(); st.Concealed != 1 {
				t.Fatalf("concealed %d frames, want 1", st.Concealed)
			}
		})
	}
}

// TestPLCAtWidebandRates: the generic concealment continues a tone at 16 and 48 kHz (its
// lengths scale with the rate) and allocates nothing.
func TestPLCAtWidebandRates(t *testing.T) {
	for _, rate := range []int{8000, 16000, 48000} {
		p := NewPLCAt(rate)
		n := codec.FrameSamplesAt(rate)
		tone := audiotest.NewTone(440, 0.5)
		if err := tone.SetRate(rate); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			p.Good(tone.Samples(n))
		}
		out := make([]int16, n)
		p.Conceal(out)
		if found, lvl, _ := audiotest.DetectTone(out, rate, 440); !found || lvl < -12 {
			t.Fatalf("%d Hz: the concealed frame lost the tone (level %.1f dBFS)", rate, lvl)
		}
		frame := tone.Samples(n)
		if a := testing.AllocsPerRun(20, func() { p.Conceal(out); p.Good(frame) }); a != 0 {
			t.Fatalf("%d Hz: %v allocations per concealed frame", rate, a)
		}
	}
}

// TestSessionAllocsPerRate: sending and receiving a frame allocate nothing at any rate, with
// sources and sinks told the rate and with 8 kHz ones the session converts for.
func TestSessionAllocsPerRate(t *testing.T) {
	far := udpSocket(t)
	for _, c := range []codec.Codec{codec.PCMU, fakeG722, fakeOpus} {
		for _, narrow := range []bool{false, true} {
			var src audio.Source = audiotest.NewTone(1000, 0.5)
			var snk audio.Sink = discardAt{}
			if narrow {
				src, snk = narrowSource{src}, discard{}
			}
			r := newRateRig(t, c, snk)
			p := r.p
			p.Send, p.Source, p.Remote = true, src, far.LocalAddr().(*net.UDPAddr).AddrPort()
			pcm, buf := make([]int16, codec.MaxFrameSamples), make([]byte, sendBufLen)
			var pkt rtp.Packet
			payload := make([]byte, c.MaxPayload())
			f := 0
			for range 5 { // the jitter buffer's slots and the resamplers come with the first frames
				r.s.tx.sendFrame(r.s, p, pcm, buf, &pkt)
				r.tick(f, payload, false)
				f++
			}
			if a := testing.AllocsPerRun(50, func() {
				r.s.tx.sendFrame(r.s, p, pcm, buf, &pkt)
				r.tick(f, payload, false)
				f++
			}); a != 0 {
				t.Fatalf("%s narrow=%v: %v allocations per frame", c.Name(), narrow, a)
			}
		}
	}
}

// discardAt is a sink that takes any rate.
type discardAt struct{}

func (discardAt) Write([]int16) error { return nil }
func (discardAt) Close() error        { return nil }
func (discardAt) SetRate(int) error   { return nil }

// TestRealOpusLossConcealed: with the real Opus (when built in), a lost packet is rebuilt by
// the codec (its FEC from the next packet, or its PLC), and the tone carries on through it.
func TestRealOpusLossConcealed(t *testing.T) {
	c, ok := codec.ByName("opus")
	if !ok {
		t.Skip("this build has no Opus (it needs cgo and libopus)")
	}
	rec := audiotest.NewRecorder()
	r := newRateRig(t, c, rec)
	enc := c.NewEncoder()
	tone := audiotest.NewTone(1000, 0.5)
	if err := tone.SetRate(48000); err != nil {
		t.Fatal(err)
	}
	payloads := make([][]byte, 60)
	for i := range payloads {
		buf := make([]byte, c.MaxPayload())
		n, err := enc.Encode(buf, tone.Samples(960))
		if err != nil {
			t.Fatal(err)
		}
		payloads[i] = buf[:n]
	}
	// Packets arrive a frame ahead of playout, so the one after the loss is there for FEC.
	r.now = r.now.Add(frameDur)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: c.PayloadType(), SSRC: 7}, Payload: payloads[0]}
	n, _ := pkt.MarshalTo(r.wire)
	r.s.handleRTP(r.wire[:n], r.peer, &r.rx)
	for f := 1; f < len(payloads); f++ {
		r.tick(f, payloads[f], f == 30)
	}
	if st := r.s.Stats(); st.Concealed != 1 {
		t.Fatalf("concealed %d frames, want 1", st.Concealed)
	}
	got := rec.SamplesAt(48000)
	if len(got) < 40*960 {
		t.Fatalf("%d samples played", len(got))
	}
	// The frames around the loss (where it was played, a few frames of buffering later).
	around := got[len(got)-35*960 : len(got)-20*960]
	if found, lvl, snr := audiotest.DetectTone(around, 48000, 1000); !found || lvl < -15 {
		t.Fatalf("the tone broke at the loss: level %.1f dBFS, snr %.1f dB", lvl, snr)
	}
}

// TestCodecChangeSameClockDropsOldPayloads: PCMU packets buffered when a re-INVITE switches
// the call to PCMA (the same 8000 Hz clock) are not played through the A-law decoder: the
// buffer is emptied at the change, and what follows is the new codec's. They were played as
// full-scale noise (a −10 dBFS tone's µ-law bytes decoded as A-law).
func TestCodecChangeSameClockDropsOldPayloads(t *testing.T) {
	rec := audiotest.NewRecorder()
	r := newRateRig(t, codec.PCMU, rec)
	quiet := make([]byte, 160) // µ-law silence; as A-law each byte is ±848
	for i := range quiet {
		quiet[i] = 0xFF
	}
	for f := range 10 { // played and buffered: the buffer holds a few when the change comes
		r.tick(f, quiet, false)
	}
	for f := 10; f < 13; f++ { // delivered, not yet played
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 7, SequenceNumber: uint16(f), Timestamp: uint32(f) * 160}, Payload: quiet}
		n, _ := pkt.MarshalTo(r.wire)
		r.s.handleRTP(r.wire[:n], r.peer, &r.rx)
	}
	r.p.Codec = codec.PCMA
	r.s.Update(r.p)
	r.p = r.s.current()
	before := len(rec.Samples())
	for range 3 {
		r.now = r.now.Add(frameDur)
		r.s.rx.playFrame(r.s, r.p, r.now, r.out)
	}
	peak := 0
	for _, v := range rec.Samples()[before:] {
		peak = max(peak, int(v), -int(v))
	}
	if peak > 100 { // 0xFF as A-law is ±848
		t.Fatalf("after the switch to PCMA the old µ-law silence played at peak %d", peak)
	}
}

// switchSource gives a loud tone until quiet is set, then silence; it takes no SetRate, so
// the adapter converts its 8 kHz frames.
type switchSource struct {
	quiet bool
	n     int
}

func (s *switchSource) Read(f []int16) error {
	for i := range f {
		if s.quiet {
			f[i] = 0
		} else {
			f[i] = int16(16000 * math.Sin(2*math.Pi*1000*float64(s.n)/8000))
		}
		s.n++
	}
	return nil
}
func (s *switchSource) Close() error { return nil }

// TestRateAdapterForgetsAnOldConversion: 16 kHz, then 8 kHz, then 16 kHz again (two
// re-INVITEs). The 16 kHz converter kept from the first time held its history of audio from
// before the changes, which the first frame after the second mixed in.
func TestRateAdapterForgetsAnOldConversion(t *testing.T) {
	src := &switchSource{}
	var a rateAdapter
	wide := make([]int16, 320)
	if err := a.configure(src, 16000, 1, true); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := a.read(src, wide); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.configure(src, 8000, 2, true); err != nil {
		t.Fatal(err)
	}
	src.quiet = true
	narrow := make([]int16, 160)
	if err := a.read(src, narrow); err != nil {
		t.Fatal(err)
	}
	if err := a.configure(src, 16000, 3, true); err != nil {
		t.Fatal(err)
	}
	if err := a.read(src, wide); err != nil {
		t.Fatal(err)
	}
	for i, v := range wide {
		if v != 0 {
			t.Fatalf("sample %d after the change back is %d: audio from before the changes", i, v)
		}
	}
	// A hold (a new generation, the same rate) keeps the conversion going: no reset.
	src.quiet = false
	for range 3 {
		if err := a.read(src, wide); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.configure(src, 16000, 4, true); err != nil {
		t.Fatal(err)
	}
	src.quiet = true
	if err := a.read(src, wide); err != nil {
		t.Fatal(err)
	}
	if slices.Max(wide[:32]) == 0 && slices.Min(wide[:32]) == 0 {
		t.Fatal("a hold reset the conversion: the tone's tail is gone")
	}
}
