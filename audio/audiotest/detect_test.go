package audiotest

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

const rate = 8000

// sine returns n samples of a sine of peak amplitude amp (0..1 of full scale).
func sine(n int, freq, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/rate)))
	}
	return s
}

// mix adds b into a, clipping.
func mix(a, b []int16) []int16 {
	out := make([]int16, len(a))
	for i := range a {
		out[i] = int16(max(-32768, min(32767, int(a[i])+int(b[i]))))
	}
	return out
}

// noise returns white Gaussian noise with RMS rms (0..1 of full scale), seeded for
// reproducible tests.
func noise(n int, rms float64, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 1))
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(max(-32768, min(32767, math.Round(r.NormFloat64()*rms*32768))))
	}
	return s
}

// muLawRoundTrip quantises samples as G.711 µ-law would (encode, then decode), with the ITU
// reference formulas; codec/ is not used so this package stays independent of it.
func muLawRoundTrip(in []int16) []int16 {
	out := make([]int16, len(in))
	for i, s := range in {
		out[i] = muLawDecode(muLawEncode(s))
	}
	return out
}

func muLawEncode(s int16) byte {
	const bias, clip = 0x84, 32635
	v, sign := int(s), 0
	if v < 0 {
		v, sign = -v, 0x80
	}
	v = min(v, clip) + bias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	return ^byte(sign | exp<<4 | (v>>(exp+3))&0x0F)
}

func muLawDecode(u byte) int16 {
	const bias = 0x84
	u = ^u
	t := (int(u&0x0F)<<3 + bias) << ((u >> 4) & 0x07)
	if u&0x80 != 0 {
		return int16(bias - t)
	}
	return int16(t - bias)
}

func TestLevel(t *testing.T) {
	if got := Level(sine(rate, 1000, 1)); math.Abs(got+3.01) > 0.05 {
		t.Errorf("full-scale sine: Level = %.2f dBFS, want -3.01", got)
	}
	if got := Level(sine(rate, 1000, 0.1)); math.Abs(got+23.01) > 0.05 {
		t.Errorf("sine at 0.1: Level = %.2f dBFS, want -23.01", got)
	}
	if got := Level(make([]int16, 100)); !math.IsInf(got, -1) {
		t.Errorf("silence: Level = %v, want -Inf", got)
	}
}

func TestGoertzelFindsToneAndNotNeighbour(t *testing.T) {
	s := sine(rate, 1000, 0.5)
	want := 0.5 * 0.5 / 2
	if got := Goertzel(s, rate, 1000); math.Abs(dB(got/want)) > 0.1 {
		t.Errorf("Goertzel at 1000 Hz = %.3g, want %.3g", got, want)
	}
	if got := Goertzel(s, rate, 1500); dB(got/want) > -80 {
		t.Errorf("Goertzel at 1500 Hz is %.1f dB re the tone, want below -80", dB(got/want))
	}
	// Off-bin frequencies work too: 1234.5 Hz over 0.3 s.
	off := sine(2400, 1234.5, 0.5)
	if got := Goertzel(off, rate, 1234.5); math.Abs(dB(got/want)) > 0.1 {
		t.Errorf("Goertzel at 1234.5 Hz = %.3g, want %.3g", got, want)
	}
}

func TestDetectTone(t *testing.T) {
	tone := sine(rate, 1000, 0.5)
	cases := []struct {
		name      string
		samples   []int16
		freq      float64
		wantFound bool
		minSNR    float64
	}{
		{"pure tone", tone, 1000, true, 60},
		{"other frequency", tone, 1500, false, 0},
		{"close frequency", tone, 1100, false, 0},
		{"silence", make([]int16, rate), 1000, false, 0},
		{"noise only", noise(rate, 0.1, 1), 1000, false, 0},
		{"tone in equal-power noise", mix(sine(rate, 1000, 0.1*math.Sqrt2), noise(rate, 0.1, 2)), 1000, true, -1},
		// White noise over the whole 4 kHz band is spread thin: 50 ms blocks give about
		// 21 dB of processing gain, so a tone somewhat under the noise is still found.
		{"tone 3 dB under noise", mix(sine(rate, 1000, 0.1*math.Sqrt2/math.Sqrt2), noise(rate, 0.1, 3)), 1000, true, -4},
		{"µ-law quantised", muLawRoundTrip(tone), 1000, true, 30},
		{"quiet µ-law quantised", muLawRoundTrip(sine(rate, 1000, 0.01)), 1000, true, 25},
		{"DTMF low tone", mix(sine(rate, 697, 0.3), sine(rate, 1209, 0.3)), 697, true, -1},
		{"DTMF high tone", mix(sine(rate, 697, 0.3), sine(rate, 1209, 0.3)), 1209, true, -1},
		{"DTMF absent tone", mix(sine(rate, 697, 0.3), sine(rate, 1209, 0.3)), 941, false, 0},
		{"below level floor", sine(rate, 1000, 0.0005), 1000, false, 0},
		{"short slice", tone[:200], 1000, true, 40},
	}
	for _, c := range cases {
		found, level, snr := DetectTone(c.samples, rate, c.freq)
		t.Logf("%-26s found=%-5v level=%7.2f dBFS snr=%7.2f dB", c.name, found, level, snr)
		if found != c.wantFound {
			t.Errorf("%s: found = %v, want %v", c.name, found, c.wantFound)
		}
		if c.wantFound && snr < c.minSNR {
			t.Errorf("%s: snr = %.1f dB, want at least %.1f", c.name, snr, c.minSNR)
		}
	}
	if _, level, _ := DetectTone(tone, rate, 1000); math.Abs(level+9.03) > 0.1 {
		t.Errorf("level of a half-scale tone = %.2f dBFS, want -9.03", level)
	}
}

// toneFrom returns total samples of silence (or background) with a tone from onset on.
func toneFrom(total, onset int, freq, amp float64) []int16 {
	s := make([]int16, total)
	copy(s[onset:], sine(total-onset, freq, amp))
	return s
}

func TestFirstToneOnset(t *testing.T) {
	ms := func(n int) int { return n * rate / 1000 }
	cases := []struct {
		name    string
		samples []int16
		want    time.Duration
		window  int
	}{
		{"from silence", toneFrom(ms(1000), ms(237), 1000, 0.5), 237 * time.Millisecond, 20},
		{"10 ms window", toneFrom(ms(1000), ms(237), 1000, 0.5), 237 * time.Millisecond, 10},
		{"40 ms window", toneFrom(ms(1000), ms(237), 1000, 0.5), 237 * time.Millisecond, 40},
		{"odd onset", toneFrom(ms(600), 1234, 1000, 0.5), 1234 * time.Second / rate, 20},
		{"over noise", mix(toneFrom(ms(1000), ms(400), 1000, 0.3), noise(ms(1000), 0.02, 4)), 400 * time.Millisecond, 20},
		{"after another tone", mix(toneFrom(ms(1000), ms(500), 1000, 0.3), sine(ms(1000), 440, 0.3)), 500 * time.Millisecond, 20},
		{"µ-law quantised", muLawRoundTrip(toneFrom(ms(1000), ms(123), 1000, 0.2)), 123 * time.Millisecond, 20},
		{"from the start", sine(ms(300), 1000, 0.5), 0, 20},
	}
	for _, c := range cases {
		got, ok := FirstToneOnset(c.samples, rate, 1000, c.window)
		t.Logf("%-20s onset %v (want %v)", c.name, got, c.want)
		if !ok {
			t.Errorf("%s: no onset found", c.name)
			continue
		}
		if d := got - c.want; d < -10*time.Millisecond || d > 10*time.Millisecond {
			t.Errorf("%s: onset %v, want %v ± 10 ms", c.name, got, c.want)
		}
	}

	if _, ok := FirstToneOnset(make([]int16, ms(500)), rate, 1000, 20); ok {
		t.Error("onset found in silence")
	}
	if _, ok := FirstToneOnset(noise(ms(2000), 0.1, 5), rate, 1000, 20); ok {
		t.Error("onset found in noise")
	}
	if _, ok := FirstToneOnset(sine(ms(500), 1500, 0.5), rate, 1000, 20); ok {
		t.Error("onset found for a tone at another frequency")
	}
	// A blip shorter than the window is not a tone start.
	blip := make([]int16, ms(500))
	copy(blip[ms(100):], sine(ms(5), 1000, 0.5))
	if got, ok := FirstToneOnset(blip, rate, 1000, 20); ok {
		t.Errorf("5 ms blip taken for a tone starting at %v", got)
	}
	if _, ok := FirstToneOnset(sine(10, 1000, 0.5), rate, 1000, 20); ok {
		t.Error("onset found in fewer samples than one window")
	}
}

// TestDetectToneWideband: at 16 and 48 kHz the detector finds a 6 kHz tone (which 8 kHz
// audio cannot hold), tells it from a 5.5 kHz one, and times its onset.
func TestDetectToneWideband(t *testing.T) {
	for _, hz := range []int{16000, 48000} {
		tone := NewTone(6000, 0.5)
		if err := tone.SetRate(hz); err != nil {
			t.Fatal(err)
		}
		s := tone.Samples(hz)
		if found, lvl, snr := DetectTone(s, hz, 6000); !found || lvl < -10 || snr < 40 {
			t.Fatalf("%d Hz: 6 kHz found %v, level %.1f dBFS, snr %.1f dB", hz, found, lvl, snr)
		}
		if found, _, _ := DetectTone(s, hz, 5500); found {
			t.Fatalf("%d Hz: a 6 kHz tone taken for 5.5 kHz", hz)
		}
		late := append(make([]int16, hz/4), s[:hz/2]...) // starts after 250 ms of silence
		if at, ok := FirstToneOnset(late, hz, 6000, 20); !ok || at < 230*time.Millisecond || at > 270*time.Millisecond {
			t.Fatalf("%d Hz: onset %v (%v), want about 250 ms", hz, at, ok)
		}
	}
}
