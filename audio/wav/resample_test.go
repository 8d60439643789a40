package wav_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dialtone/dialtone/audio/wav"
)

// resampleAll runs all of in through a new resampler in one call per 20 ms of input.
func resampleAll(t testing.TB, inRate, outRate int, in []float32, compensate bool) []float32 {
	t.Helper()
	r, err := wav.NewResampler(inRate, outRate)
	if err != nil {
		t.Fatal(err)
	}
	if compensate {
		r.CompensateDelay()
	}
	out := make([]float32, 0, len(in)*outRate/inRate+16)
	buf := make([]float32, 4096)
	step := max(1, inRate/50)
	for len(in) > 0 {
		chunk := in[:min(step, len(in))]
		for len(chunk) > 0 {
			c, p := r.Process(chunk, buf)
			out = append(out, buf[:p]...)
			chunk = chunk[c:]
		}
		in = in[min(step, len(in)):]
	}
	return out
}

func sineF32(n, rate int, freq, amp float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return s
}

// rms and toneAmp measure in float, below int16's quantisation floor, so the filter's own
// stopband is what shows.
func rms(x []float32) float64 {
	sum := 0.0
	for _, v := range x {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(x)))
}

// toneAmp is the amplitude of the component at freq (Hann-windowed single-bin DFT).
func toneAmp(x []float32, rate int, freq float64) float64 {
	var re, im, wsum float64
	for i, v := range x {
		w := math.Pow(math.Sin(math.Pi*(float64(i)+0.5)/float64(len(x))), 2)
		ph := 2 * math.Pi * freq * float64(i) / float64(rate)
		re += w * float64(v) * math.Cos(ph)
		im -= w * float64(v) * math.Sin(ph)
		wsum += w
	}
	return 2 * math.Hypot(re, im) / wsum
}

func dB(ratio float64) float64 { return 20 * math.Log10(ratio) }

// gain measures how a tone of freq Hz at inRate comes out at outRate: the level of the tone
// itself if the output can carry it, otherwise everything in the output (aliases, leakage).
func gain(t testing.TB, inRate, outRate int, freq float64) float64 {
	in := sineF32(inRate, inRate, freq, 0.5) // one second
	out := resampleAll(t, inRate, outRate, in, false)
	out = out[outRate/10 : len(out)-outRate/10] // skip the filter's start and end
	if freq < float64(outRate)/2 {
		return dB(toneAmp(out, outRate, freq) / 0.5)
	}
	return dB(rms(out) / (0.5 / math.Sqrt2))
}

// images measures what upsampling adds besides the tone: everything in the output once the
// tone is subtracted, relative to the tone.
func images(t testing.TB, inRate, outRate int, freq float64) float64 {
	in := sineF32(inRate, inRate, freq, 0.5)
	out := resampleAll(t, inRate, outRate, in, true)
	out = out[outRate/10 : len(out)-outRate/10]
	ideal := sineF32(len(out)+outRate/10, outRate, freq, 0.5)[outRate/10:]
	resid := make([]float32, len(out))
	for i := range out {
		resid[i] = out[i] - ideal[i]
	}
	return dB(rms(resid) / (0.5 / math.Sqrt2))
}

func TestResamplerDownsamplingResponse(t *testing.T) {
	for _, inRate := range []int{48000, 44100, 16000, 11025, 44056 /* interpolated phases */, 96000} {
		t.Run(fmt.Sprint(inRate), func(t *testing.T) {
			for _, c := range []struct {
				freq     float64
				min, max float64 // acceptable gain, dB
			}{
				{300, -0.01, 0.01},
				{1000, -0.01, 0.01},
				{3000, -0.01, 0.01},
				{3400, -1.5, 0},
				{4000, -200, -90}, // the Nyquist frequency of 8 kHz: aliases onto itself
				{4400, -200, -90}, // would alias to 3.6 kHz
				{5000, -200, -90}, // would alias to 3 kHz
				{7000, -200, -90},
				{15000, -200, -90},
				{21000, -200, -90},
			} {
				if c.freq >= float64(inRate)/2 {
					continue
				}
				g := gain(t, inRate, 8000, c.freq)
				t.Logf("%5.0f Hz → %8.2f dB", c.freq, g)
				if g < c.min || g > c.max {
					t.Errorf("%d Hz → 8 kHz: %v Hz comes out at %.2f dB, want %v to %v dB", inRate, c.freq, g, c.min, c.max)
				}
			}
		})
	}
}

func TestResamplerUpsamplingResponse(t *testing.T) {
	for _, outRate := range []int{48000, 44100, 16000} {
		t.Run(fmt.Sprint(outRate), func(t *testing.T) {
			for _, freq := range []float64{300, 1000, 2000, 3000} {
				g := gain(t, 8000, outRate, freq)
				img := images(t, 8000, outRate, freq)
				t.Logf("%5.0f Hz: gain %6.3f dB, images and error %7.2f dB", freq, g, img)
				if math.Abs(g) > 0.01 {
					t.Errorf("8 kHz → %d Hz: %v Hz comes out at %.3f dB, want 0", outRate, freq, g)
				}
				if img > -90 {
					t.Errorf("8 kHz → %d Hz: %v Hz leaves images at %.1f dB, want below -90", outRate, freq, img)
				}
			}
		})
	}
}

func TestResamplerStreamsInAnyChunks(t *testing.T) {
	for _, rates := range [][2]int{{48000, 8000}, {8000, 48000}, {44100, 8000}, {8000, 44100}, {44056, 8000}} {
		in := sineF32(20000, rates[0], 440, 0.7)
		whole := resampleAll(t, rates[0], rates[1], in, false)

		r, _ := wav.NewResampler(rates[0], rates[1])
		rng := rand.New(rand.NewPCG(1, 2))
		var got []float32
		rest := in
		out := make([]float32, 700)
		for len(rest) > 0 {
			chunk := rest[:min(len(rest), rng.IntN(300))]
			c, p := r.Process(chunk, out[:rng.IntN(len(out))+1])
			got = append(got, out[:p]...)
			rest = rest[c:]
		}
		for { // drain what the last input allows
			_, p := r.Process(nil, out)
			if p == 0 {
				break
			}
			got = append(got, out[:p]...)
		}
		if !slices.Equal(got, whole) {
			t.Errorf("%d → %d Hz: output in random chunks (%d samples) differs from 20 ms chunks (%d)", rates[0], rates[1], len(got), len(whole))
		}
	}
}

func TestResamplerFrameInFrameOut(t *testing.T) {
	// A device loop gives 20 ms and wants 20 ms back, every time.
	for _, rates := range [][2]int{{48000, 8000}, {8000, 48000}, {44100, 8000}, {8000, 44100}, {16000, 8000}} {
		r, _ := wav.NewResampler(rates[0], rates[1])
		in := make([]int16, rates[0]/50)
		out := make([]int16, rates[1]/50)
		for i := range 100 {
			c, p := r.ProcessInt16(in, out)
			if c != len(in) || p != len(out) {
				t.Fatalf("%d → %d Hz, frame %d: consumed %d of %d, produced %d of %d", rates[0], rates[1], i, c, len(in), p, len(out))
			}
		}
	}
}

func TestResamplerCompensateDelayAlignsOutput(t *testing.T) {
	for _, rates := range [][2]int{{48000, 8000}, {44100, 8000}, {8000, 48000}, {11025, 8000}} {
		in := sineF32(rates[0], rates[0], 500, 0.5)
		out := resampleAll(t, rates[0], rates[1], in, true)
		want := sineF32(len(out), rates[1], 500, 0.5)
		mid := out[rates[1]/10 : len(out)-rates[1]/5]
		diff := make([]float32, len(mid))
		for i := range mid {
			diff[i] = mid[i] - want[rates[1]/10+i]
		}
		if e := dB(rms(diff) / (0.5 / math.Sqrt2)); e > -80 {
			t.Errorf("%d → %d Hz: output differs from the time-aligned ideal by %.1f dB; delay not compensated?", rates[0], rates[1], e)
		}
	}
}

func TestResamplerNoAllocations(t *testing.T) {
	r, _ := wav.NewResampler(48000, 8000)
	in, out := make([]float32, 960), make([]float32, 160)
	in16, out16 := make([]int16, 960), make([]int16, 160)
	if n := testing.AllocsPerRun(100, func() { r.Process(in, out) }); n != 0 {
		t.Errorf("Process allocates %v times per call", n)
	}
	if n := testing.AllocsPerRun(100, func() { r.ProcessInt16(in16, out16) }); n != 0 {
		t.Errorf("ProcessInt16 allocates %v times per call", n)
	}
}

func TestResamplerRejectsBadRates(t *testing.T) {
	for _, rates := range [][2]int{{0, 8000}, {8000, 0}, {-1, 8000}, {8000, 1 << 30}, {8000000, 8000}, {10, 8000}} {
		if _, err := wav.NewResampler(rates[0], rates[1]); err == nil {
			t.Errorf("NewResampler(%d, %d) succeeded", rates[0], rates[1])
		}
	}
}

func TestResamplerSameRateIsPassThrough(t *testing.T) {
	r, err := wav.NewResampler(8000, 8000)
	if err != nil {
		t.Fatal(err)
	}
	in := []int16{1, -2, 3, 32767, -32768}
	out := make([]int16, 5)
	if c, p := r.ProcessInt16(in, out); c != 5 || p != 5 || !slices.Equal(in, out) || r.Latency() != 0 {
		t.Fatalf("8000 → 8000 gave %v (%d, %d), want a copy", out, c, p)
	}
}

func TestResamplerInt16ClipsAndRounds(t *testing.T) {
	// A full-scale square wave overshoots after band-limiting (Gibbs); int16 output must clip,
	// not wrap around.
	r, _ := wav.NewResampler(48000, 8000)
	in := make([]int16, 4800)
	for i := range in {
		in[i] = 32767
		if i/240%2 == 1 {
			in[i] = -32768
		}
	}
	out := make([]int16, 800)
	_, p := r.ProcessInt16(in, out)
	for i := 1; i < p; i++ {
		if d := int(out[i]) - int(out[i-1]); d > 40000 || d < -40000 {
			t.Fatalf("jump of %d between samples %d and %d: int16 wrap-around", d, i-1, i)
		}
	}
}

func benchmarkResampler(b *testing.B, inRate, outRate int) {
	r, err := wav.NewResampler(inRate, outRate)
	if err != nil {
		b.Fatal(err)
	}
	in := make([]int16, inRate/50)
	for i := range in {
		in[i] = int16(10000 * math.Sin(float64(i)))
	}
	out := make([]int16, outRate/50)
	b.ReportAllocs()
	for b.Loop() {
		r.ProcessInt16(in, out)
	}
}

// Each iteration is one 20 ms frame.
func BenchmarkResample48kTo8k(b *testing.B)  { benchmarkResampler(b, 48000, 8000) }
func BenchmarkResample8kTo48k(b *testing.B)  { benchmarkResampler(b, 8000, 48000) }
func BenchmarkResample44k1To8k(b *testing.B) { benchmarkResampler(b, 44100, 8000) }
func BenchmarkResample8kTo44k1(b *testing.B) { benchmarkResampler(b, 8000, 44100) }
func BenchmarkNewResampler44k1(b *testing.B) {
	for b.Loop() {
		wav.NewResampler(44100, 8000)
	}
}
