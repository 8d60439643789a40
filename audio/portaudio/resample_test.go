//go:build cgo && !noportaudio

package portaudio

import (
	"math"
	"slices"
	"testing"
)

// amplitude of freq in the middle of s (away from start-up), over a whole number of cycles.
func midAmplitude(s []int16, freq, rate float64) float64 {
	n := int(rate / gcd(freq, rate)) // samples per whole number of cycles
	for n < int(rate/20) {
		n *= 2
	}
	mid := len(s)/2 - n/2
	return goertzel(s[mid:mid+n], freq, rate)
}

func gcd(a, b float64) float64 {
	x, y := int(a), int(b)
	for y != 0 {
		x, y = y, x%y
	}
	return float64(x)
}

func TestResamplerRoundTrip(t *testing.T) {
	for _, rate := range []float64{44100, 48000, 16000} {
		in := sine(1000, 10000, 8000)
		up := newResampler(8000, rate).process(in, nil)
		if want := len(in) * int(rate) / 8000; math.Abs(float64(len(up)-want)) > 64 {
			t.Errorf("%g Hz: %d samples, want about %d", rate, len(up), want)
		}
		if a := midAmplitude(up, 1000, rate); math.Abs(a-10000) > 200 {
			t.Errorf("8k→%g: 1 kHz amplitude %.0f, want 10000", rate, a)
		}
		back := newResampler(rate, 8000).process(up, nil)
		if a := midAmplitude(back, 1000, 8000); math.Abs(a-10000) > 300 {
			t.Errorf("%g→8k: 1 kHz amplitude %.0f, want 10000", rate, a)
		}
	}
}

// Downsampling must filter what 8 kHz cannot hold instead of folding it into the band.
func TestResamplerRejectsAliases(t *testing.T) {
	in := sineAt(6000, 10000, 48000, 48000) // would alias to 2 kHz
	out := newResampler(48000, 8000).process(in, nil)
	if a := midAmplitude(out, 2000, 8000); a > 10 { // -60 dB
		t.Errorf("6 kHz leaked as 2 kHz at amplitude %.1f", a)
	}
}

// Feeding odd-sized pieces must give the same stream as one call: the capture callback and
// Sink.Write both feed it piecemeal.
func TestResamplerStreaming(t *testing.T) {
	in := sineAt(440, 8000, 44100, 10000)
	whole := newResampler(44100, 8000).process(in, nil)
	r := newResampler(44100, 8000)
	var parts []int16
	for i, n := 0, 1; i < len(in); i, n = i+n, n*3%997+1 {
		parts = r.process(in[i:min(i+n, len(in))], parts)
	}
	if !slices.Equal(whole, parts) {
		t.Fatalf("piecewise output differs (%d vs %d samples)", len(parts), len(whole))
	}
}

// The polyphase tables must give what the generic path gives (to within the generic path's
// table interpolation), for the ratios device calls use.
func TestPolyphaseMatchesGeneric(t *testing.T) {
	for _, c := range []struct{ in, out float64 }{{8000, 48000}, {48000, 8000}, {16000, 48000}, {48000, 16000}, {8000, 44100}, {44100, 8000}, {44100, 48000}} {
		in := sineAt(1000, 12000, c.in, int(c.in/5))
		poly := newResampler(c.in, c.out)
		if poly.poly == nil {
			t.Fatalf("%g→%g: no polyphase tables", c.in, c.out)
		}
		gen := newResampler(c.in, c.out)
		gen.poly = nil
		var a, b []int16
		for i := 0; i < len(in); i += 333 {
			a = poly.process(in[i:min(i+333, len(in))], a)
			b = gen.process(in[i:min(i+333, len(in))], b)
		}
		// The generic path adds up a float step, which can put its last output a sample early
		// or late; the tables count whole phases.
		if abs(len(a)-len(b)) > 1 {
			t.Fatalf("%g→%g: %d samples, generic %d", c.in, c.out, len(a), len(b))
		}
		worst := 0
		for i := range min(len(a), len(b)) {
			worst = max(worst, abs(int(a[i])-int(b[i])))
		}
		if worst > 3 {
			t.Errorf("%g→%g: differs from the generic path by up to %d", c.in, c.out, worst)
		}
	}
	if newResampler(44100.5, 8000).poly != nil {
		t.Error("a fractional rate got polyphase tables")
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
