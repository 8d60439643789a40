//go:build cgo && !noopus

package codec

import (
	"errors"
	"math"
	"testing"
)

const opusFrame = 960 // 20 ms at 48 kHz

// toneFrames is n 20 ms frames of a sine at freq Hz and peak amplitude amp, phase-continuous.
func toneFrames(n int, freq, amp float64) []int16 {
	pcm := make([]int16, n*opusFrame)
	for i := range pcm {
		pcm[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/48000))
	}
	return pcm
}

// goertzelPower is the mean-square power (relative to full scale) of the component at freq in
// x, Hann-windowed so neighbouring energy leaks little: A²/2 for a sine of peak A (0..1).
func goertzelPower(x []int16, freq float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*freq/48000)
	var s1, s2, wsum float64
	for i, v := range x {
		w := math.Sin(math.Pi * (float64(i) + 0.5) / float64(len(x)))
		w *= w
		wsum += w
		s1, s2 = w*float64(v)/32768+coeff*s1-s2, s1
	}
	return 2 * (s1*s1 + s2*s2 - coeff*s1*s2) / (wsum * wsum)
}

// sineFit fits a sine of frequency freq to x by least squares (x spans whole periods) and
// returns the fitted sine's power and the power of what is left: the coding noise.
func sineFit(x []int16, freq float64) (tone, rest float64) {
	var a, b float64
	for i, v := range x {
		ph := 2 * math.Pi * freq * float64(i) / 48000
		a += float64(v) * math.Sin(ph)
		b += float64(v) * math.Cos(ph)
	}
	a, b = 2*a/float64(len(x)), 2*b/float64(len(x))
	for i, v := range x {
		ph := 2 * math.Pi * freq * float64(i) / 48000
		r := (float64(v) - a*math.Sin(ph) - b*math.Cos(ph)) / 32768
		rest += r * r
	}
	return (a*a + b*b) / 2 / (32768 * 32768), rest / float64(len(x))
}

func meanPower(x []int16) float64 {
	var sum float64
	for _, v := range x {
		f := float64(v) / 32768
		sum += f * f
	}
	return sum / float64(len(x))
}

func dB(p float64) float64 { return 10 * math.Log10(p) }

// opusRoundTrip encodes pcm frame by frame and decodes every packet, returning the decoded
// audio and the packets.
func opusRoundTrip(t testing.TB, pcm []int16) ([]int16, [][]byte) {
	t.Helper()
	enc, dec := Opus.NewEncoder(), Opus.NewDecoder()
	out := make([]int16, 0, len(pcm))
	var packets [][]byte
	buf := make([]int16, opusFrame)
	for f := 0; f+opusFrame <= len(pcm); f += opusFrame {
		pkt := make([]byte, Opus.MaxPayload())
		n, err := enc.Encode(pkt, pcm[f:f+opusFrame])
		if err != nil {
			t.Fatalf("frame %d: encode: %v", f/opusFrame, err)
		}
		packets = append(packets, pkt[:n])
		m, err := dec.Decode(buf, pkt[:n])
		if err != nil || m != opusFrame {
			t.Fatalf("frame %d: decode = %d, %v", f/opusFrame, m, err)
		}
		out = append(out, buf[:m]...)
	}
	return out, packets
}

func TestOpusRegistry(t *testing.T) {
	for _, name := range []string{"opus", "OPUS", "opus/48000", "opus/48000/2", " Opus/48000/2 "} {
		if c, ok := ByName(name); !ok || c != Opus {
			t.Errorf("ByName(%q) = %v, %v; want Opus", name, c, ok)
		}
	}
	for _, name := range []string{"opus/8000", "opus/48000/1", "opus/16000/2"} {
		if c, ok := ByName(name); ok {
			t.Errorf("ByName(%q) = %s, want none (RFC 7587 says opus/48000/2)", name, c.Name())
		}
	}
	if c, ok := ByPayloadType(111); !ok || c != Opus {
		t.Errorf("ByPayloadType(111) = %v, %v", c, ok)
	}
	if all := All(); len(all) == 0 || all[0] != Opus {
		t.Errorf("All()[0] = %v, want Opus first", all)
	}
	if got := FrameSamplesAt(Opus.SampleRate()); got != opusFrame {
		t.Errorf("frame = %d samples, want %d", got, opusFrame)
	}
	if got := TimestampStep(Opus); got != opusFrame {
		t.Errorf("TimestampStep = %d, want %d", got, opusFrame)
	}
	if Opus.Channels() != 2 || Opus.ClockRate() != 48000 || Opus.PayloadType() != 111 {
		t.Errorf("rtpmap %s/%d/%d pt %d", Opus.Name(), Opus.ClockRate(), Opus.Channels(), Opus.PayloadType())
	}
}

// TestOpusTone sends a 1 kHz and a 6 kHz tone (the latter only a wideband call carries)
// through encoder and decoder and finds each at its frequency, at its level, well above the
// coding noise, and not at the other frequency.
func TestOpusTone(t *testing.T) {
	const amp = 8000 // about -15 dBFS peak, a loud talker
	for _, tc := range []struct{ freq, other float64 }{{1000, 6000}, {6000, 1000}} {
		in := toneFrames(50, tc.freq, amp)
		out, _ := opusRoundTrip(t, in)
		// Skip the first 200 ms: the encoder's lookahead and its start-up bandwidth ramp.
		x := out[10*opusFrame:]
		want := dB(goertzelPower(in[10*opusFrame:], tc.freq))
		got := dB(goertzelPower(x, tc.freq))
		tone, rest := sineFit(x, tc.freq)
		snr := dB(tone / rest)
		leak := dB(goertzelPower(x, tc.other)) - got
		t.Logf("%.0f Hz: level %.1f dBFS (in %.1f), SNR %.1f dB, %.0f Hz at %.1f dB", tc.freq, got, want, snr, tc.other, leak)
		if math.Abs(got-want) > 2 {
			t.Errorf("%.0f Hz comes out at %.1f dBFS, went in at %.1f", tc.freq, got, want)
		}
		if snr < 20 {
			t.Errorf("%.0f Hz: SNR %.1f dB, want >= 20", tc.freq, snr)
		}
		if leak > -40 {
			t.Errorf("%.0f Hz: %.0f Hz only %.1f dB below the tone", tc.freq, tc.other, -leak)
		}
	}
}

// TestOpusPacketSizes: packets stay within MaxPayload for loud noise (the worst case for
// the cap) and average near the configured bitrate for a tone.
func TestOpusPacketSizes(t *testing.T) {
	noise := make([]int16, 50*opusFrame)
	var lfsr uint32 = 1
	for i := range noise {
		lfsr = lfsr*1664525 + 1013904223
		noise[i] = int16(lfsr >> 16)
	}
	for name, pcm := range map[string][]int16{"tone": toneFrames(50, 440, 8000), "noise": noise, "silence": make([]int16, 50*opusFrame)} {
		_, packets := opusRoundTrip(t, pcm)
		total, largest := 0, 0
		for _, p := range packets {
			total += len(p)
			largest = max(largest, len(p))
		}
		avg := float64(total) / float64(len(packets))
		t.Logf("%s: average %.0f bytes (%.1f kbit/s), largest %d", name, avg, avg*8*50/1000, largest)
		if largest > Opus.MaxPayload() {
			t.Errorf("%s: packet of %d bytes exceeds MaxPayload %d", name, largest, Opus.MaxPayload())
		}
		if name == "tone" && (avg < 40 || avg > 120) {
			t.Errorf("tone: average %.0f bytes per packet, want near %d (32 kbit/s)", avg, opusBitrate/8/50)
		}
	}
}

func TestOpusEncodeErrors(t *testing.T) {
	enc := Opus.NewEncoder()
	dst := make([]byte, Opus.MaxPayload())
	for _, n := range []int{0, 1, 100, 959, 961} {
		if _, err := enc.Encode(dst, make([]int16, n)); err == nil {
			t.Errorf("Encode of %d samples: no error", n)
		}
	}
	if _, err := enc.Encode(nil, make([]int16, opusFrame)); err == nil {
		t.Error("Encode into an empty buffer: no error")
	}
	// The encoder still works after the errors.
	if n, err := enc.Encode(dst, make([]int16, opusFrame)); err != nil || n == 0 {
		t.Errorf("Encode after errors = %d, %v", n, err)
	}
}

// TestOpusMalformed: corrupt packets are errors, never panics, and leave the decoder usable.
func TestOpusMalformed(t *testing.T) {
	dec := Opus.NewDecoder()
	dst := make([]int16, opusFrame)
	// A valid 40 ms packet: too long for a 20 ms buffer.
	long := make([]byte, 400)
	enc40 := Opus.NewEncoder()
	n40, err := enc40.Encode(long, make([]int16, 2*opusFrame))
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{
		"empty":                nil,
		"code 1 odd length":    {0x79, 1, 2}, // two equal frames need an even remainder
		"code 2 length beyond": {0x7A, 200, 1},
		"code 3 no count":      {0x7B},
		"code 3 zero frames":   {0x7B, 0x00},
		"code 3 over 120 ms":   {0x7B, 0x07, 1, 2, 3, 4, 5, 6, 7}, // 7 x 20 ms
		"code 3 padding past":  {0x7B, 0x41, 0xFF},
		"40 ms into 20 ms":     long[:n40],
		"1276-byte frame":      append([]byte{0x78}, make([]byte, 1276)...),
	}
	for name, p := range bad {
		n, err := dec.Decode(dst, p)
		if err == nil {
			t.Errorf("%s: Decode = %d samples, no error", name, n)
		}
		if _, err := dec.(FECDecoder).DecodeFEC(dst, p); err == nil && len(p) < 2 {
			t.Errorf("%s: DecodeFEC: no error", name)
		}
	}
	if _, err := dec.Decode(dst[:100], []byte{0x78, 0}); err == nil {
		t.Error("Decode into a 100-sample buffer: no error")
	}
	var oe opusErr
	if _, err := dec.Decode(dst, bad["code 3 zero frames"]); !errors.As(err, &oe) || err.Error() == "" {
		t.Errorf("error %v is not a described libopus error", err)
	}
	_, packets := opusRoundTrip(t, toneFrames(3, 1000, 8000))
	if n, err := dec.Decode(dst, packets[2]); err != nil || n != opusFrame {
		t.Errorf("decoder after bad packets: %d, %v", n, err)
	}
}

// TestOpusZeroAllocs: encoding, decoding, concealment and FEC allocate nothing per frame,
// nor do the errors of a stream of garbage.
func TestOpusZeroAllocs(t *testing.T) {
	enc, dec := Opus.NewEncoder(), Opus.NewDecoder()
	pcm := toneFrames(1, 1000, 8000)
	pkt := make([]byte, Opus.MaxPayload())
	out := make([]int16, opusFrame)
	n, _ := enc.Encode(pkt, pcm)
	fd := dec.(FECDecoder)
	cd := dec.(Concealer)
	garbage := []byte{0x7B, 0x00}
	check := func(_ int, err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	for name, f := range map[string]func(){
		"Encode":    func() { check(enc.Encode(pkt, pcm)) },
		"Decode":    func() { check(dec.Decode(out, pkt[:n])) },
		"Conceal":   func() { check(cd.Conceal(out)) },
		"DecodeFEC": func() { check(fd.DecodeFEC(out, pkt[:n])) },
		"garbage": func() {
			if _, err := dec.Decode(out, garbage); err == nil {
				t.Fatal("garbage decoded")
			}
		},
	} {
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s: %v allocations per frame, want 0", name, a)
		}
	}
}

// TestOpusRateController: a lower bitrate makes smaller packets, out-of-range values are
// errors, and the encoder keeps working.
func TestOpusRateController(t *testing.T) {
	enc := Opus.NewEncoder()
	rc, ok := enc.(RateController)
	if !ok {
		t.Fatal("Opus encoder is not a RateController")
	}
	pcm := voiceLike(50)
	avg := func() float64 {
		dst := make([]byte, Opus.MaxPayload())
		total := 0
		for f := 0; f < len(pcm); f += opusFrame {
			n, err := enc.Encode(dst, pcm[f:f+opusFrame])
			if err != nil {
				t.Fatal(err)
			}
			if f >= 10*opusFrame { // past the rate change's settling
				total += n
			}
		}
		return float64(total) * 8 / 0.8 // bit/s over the last 40 frames
	}
	high := avg()
	if err := rc.SetBitrate(12000); err != nil {
		t.Fatal(err)
	}
	if err := rc.SetLossPercent(20); err != nil {
		t.Fatal(err)
	}
	low := avg()
	t.Logf("voice at %.1f kbit/s, then %.1f kbit/s after SetBitrate(12000)", high/1000, low/1000)
	if low > 16000 || low > high/2 {
		t.Errorf("after SetBitrate(12000) the stream runs at %.0f bit/s (was %.0f)", low, high)
	}
	for _, bad := range []int{-1, 0, 5999, 510001} {
		if rc.SetBitrate(bad) == nil {
			t.Errorf("SetBitrate(%d): no error", bad)
		}
	}
	for _, bad := range []int{-1, 101} {
		if rc.SetLossPercent(bad) == nil {
			t.Errorf("SetLossPercent(%d): no error", bad)
		}
	}
}
