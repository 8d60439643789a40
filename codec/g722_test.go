package codec

import (
	"errors"
	"math"
	"testing"
)

func TestG722Describes(t *testing.T) {
	c := G722
	if c.Name() != "G722" || c.PayloadType() != 9 || c.Channels() != 1 {
		t.Fatalf("G722 is %s PT %d, %d channels", c.Name(), c.PayloadType(), c.Channels())
	}
	// RFC 3551 §4.5.2: the RTP clock runs at 8000 Hz although the audio is 16 kHz.
	if c.ClockRate() != 8000 || c.SampleRate() != 16000 {
		t.Fatalf("clock %d Hz, audio %d Hz", c.ClockRate(), c.SampleRate())
	}
	if step := TimestampStep(c); step != 160 {
		t.Fatalf("timestamp step %d per 20 ms, want 160", step)
	}
	if n := FrameSamplesAt(c.SampleRate()); n != 320 || c.MaxPayload() != n/2 {
		t.Fatalf("frame %d samples, max payload %d", n, c.MaxPayload())
	}
}

func TestG722Registered(t *testing.T) {
	for _, name := range []string{"G722", "g722", "G722/8000", "g722/8000/1", " G722/8000 "} {
		if c, ok := ByName(name); !ok || c != G722 {
			t.Errorf("ByName(%q) = %v, %v", name, c, ok)
		}
	}
	// The rtpmap clock is 8000: a peer writing G722/16000 means something we cannot decode.
	for _, name := range []string{"G722/16000", "G722/8000/2", "G7221/16000"} {
		if c, ok := ByName(name); ok {
			t.Errorf("ByName(%q) = %s, want none", name, c.Name())
		}
	}
	if c, ok := ByPayloadType(9); !ok || c != G722 {
		t.Errorf("ByPayloadType(9) = %v, %v", c, ok)
	}
	all := All()
	g, pcmu := -1, -1
	for i, c := range all {
		switch c {
		case G722:
			g = i
		case PCMU:
			pcmu = i
		}
	}
	if g < 0 || g > pcmu {
		t.Errorf("All() = %v: G722 at %d, PCMU at %d", all, g, pcmu)
	}
}

// goertzel is the power of x at hz (sampled at rate), normalised by length.
func goertzel(x []int16, hz, rate float64) float64 {
	k := 2 * math.Cos(2*math.Pi*hz/rate)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + k*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - k*s1*s2
	return p / float64(len(x)*len(x))
}

// g722RoundTrip encodes pcm frame by frame and decodes the result.
func g722RoundTrip(t *testing.T, pcm []int16) []int16 {
	t.Helper()
	enc, dec := G722.NewEncoder(), G722.NewDecoder()
	out := make([]int16, 0, len(pcm))
	payload := make([]byte, G722.MaxPayload())
	frame := make([]int16, g722FrameSamples)
	for off := 0; off+g722FrameSamples <= len(pcm); off += g722FrameSamples {
		n, err := enc.Encode(payload, pcm[off:off+g722FrameSamples])
		if err != nil || n != g722FrameOctets {
			t.Fatalf("Encode = %d, %v", n, err)
		}
		m, err := dec.Decode(frame, payload[:n])
		if err != nil || m != g722FrameSamples {
			t.Fatalf("Decode = %d, %v", m, err)
		}
		out = append(out, frame...)
	}
	return out
}

// TestG722CarriesSixKilohertz: a 6 kHz tone, which G.711's 4 kHz band cannot carry at all,
// comes back at 6 kHz from the upper band, with little of it aliased to 2 kHz (where a
// broken QMF would fold it) and a good signal-to-noise ratio once the codec delay is removed.
func TestG722CarriesSixKilohertz(t *testing.T) {
	for _, hz := range []float64{6000, 1000, 3000, 7000} {
		in := make([]int16, g722Rate) // one second
		for i := range in {
			in[i] = int16(10000 * math.Sin(2*math.Pi*hz*float64(i)/g722Rate))
		}
		out := g722RoundTrip(t, in)
		skip := g722Rate / 10 // let the adaptation settle
		tone := goertzel(out[skip:], hz, g722Rate)
		alias := goertzel(out[skip:], 8000-hz, g722Rate)
		if tone < 1e6 { // 10000 amplitude gives 2.5e7
			t.Errorf("%.0f Hz: power %.3g at the tone, want about 2.5e7", hz, tone)
		}
		if ratio := 10 * math.Log10(tone/alias); ratio < 30 {
			t.Errorf("%.0f Hz: only %.1f dB above its alias at %.0f Hz", hz, ratio, 8000-hz)
		}
		snr := snrAt(in[skip:len(out)-g722Delay], out[skip+g722Delay:])
		t.Logf("%.0f Hz: SNR %.1f dB, %.1f dB above the alias", hz, snr, 10*math.Log10(tone/alias))
		if snr < 20 {
			t.Errorf("%.0f Hz: SNR %.1f dB, want ≥ 20 dB", hz, snr)
		}
	}
}

// g722Delay is the codec's delay in samples: the two 24-tap QMFs' 23 minus the one sample
// of the pairing.
const g722Delay = 22

func snrAt(in, out []int16) float64 {
	var sig, noise float64
	for i := range min(len(in), len(out)) {
		d := float64(out[i]) - float64(in[i])
		sig += float64(in[i]) * float64(in[i])
		noise += d * d
	}
	return 10 * math.Log10(sig/noise)
}

// TestG722Delay: on white noise, where no other lag can line up, the output matches the
// input best g722Delay samples later.
func TestG722Delay(t *testing.T) {
	in := g722Signals()["noise"]
	out := g722RoundTrip(t, in)
	best, bestLag := math.Inf(-1), -1
	for lag := range 64 {
		if snr := snrAt(in[:len(out)-lag], out[lag:]); snr > best {
			best, bestLag = snr, lag
		}
	}
	t.Logf("noise: SNR %.1f dB at lag %d", best, bestLag)
	if bestLag != g722Delay || best < 10 {
		t.Errorf("noise: best SNR %.1f dB at lag %d, want ≥ 10 dB at %d", best, bestLag, g722Delay)
	}
}

func TestG722BadInput(t *testing.T) {
	enc, dec := G722.NewEncoder(), G722.NewDecoder()
	var out [g722FrameOctets]byte
	if n, err := enc.Encode(out[:], make([]int16, 319)); err == nil || n != 0 {
		t.Errorf("Encode(319 samples) = %d, %v; want an error", n, err)
	}
	if n, err := enc.Encode(out[:10], make([]int16, 320)); !errors.Is(err, errShortBuffer) || n != 0 {
		t.Errorf("Encode into 10 octets = %d, %v; want errShortBuffer", n, err)
	}
	if n, err := enc.Encode(out[:], nil); err != nil || n != 0 {
		t.Errorf("Encode(nil) = %d, %v", n, err)
	}
	var pcm [g722FrameSamples]int16
	if n, err := dec.Decode(pcm[:], make([]byte, 161)); !errors.Is(err, errShortBuffer) || n != 0 {
		t.Errorf("Decode(161 octets) into 320 = %d, %v; want errShortBuffer", n, err)
	}
	// Odd and short payloads are fine: every octet is a whole code.
	for _, l := range []int{0, 1, 3, 159} {
		if n, err := dec.Decode(pcm[:], make([]byte, l)); err != nil || n != 2*l {
			t.Errorf("Decode(%d octets) = %d, %v", l, n, err)
		}
	}
}

// TestG722StateIsPerCall: frames cut anywhere between sample pairs encode the same as one
// long buffer, and two calls' encoders do not share state.
func TestG722StateIsPerCall(t *testing.T) {
	pcm := g722Signals()["sweep"][:8000]
	whole := make([]byte, len(pcm)/2)
	if _, err := G722.NewEncoder().Encode(whole, pcm); err != nil {
		t.Fatal(err)
	}
	a, b := G722.NewEncoder(), G722.NewEncoder()
	pieces := make([]byte, len(pcm)/2)
	for off, step := 0, 2; off < len(pcm); off, step = off+step, step%62+4 {
		end := min(off+step, len(pcm))
		if _, err := a.Encode(pieces[off/2:], pcm[off:end]); err != nil {
			t.Fatal(err)
		}
		var junk [64]byte // b encodes something else in between
		if _, err := b.Encode(junk[:], pcm[:min(128, len(pcm))]); err != nil {
			t.Fatal(err)
		}
	}
	for i := range whole {
		if whole[i] != pieces[i] {
			t.Fatalf("octet %d: %#02x in pieces, %#02x whole", i, pieces[i], whole[i])
		}
	}
}

func TestG722ZeroAllocs(t *testing.T) {
	enc, dec := G722.NewEncoder(), G722.NewDecoder()
	pcm := g722Signals()["noise"][:g722FrameSamples]
	payload := make([]byte, G722.MaxPayload())
	out := make([]int16, g722FrameSamples)
	if a := testing.AllocsPerRun(100, func() {
		if _, err := enc.Encode(payload, pcm); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("Encode: %v allocs per frame", a)
	}
	if a := testing.AllocsPerRun(100, func() {
		if _, err := dec.Decode(out, payload); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("Decode: %v allocs per frame", a)
	}
}
