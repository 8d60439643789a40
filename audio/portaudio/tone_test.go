//go:build cgo && !noportaudio

package portaudio

import (
	"math"
	"testing"

	"github.com/dialtone/dialtone/audio"
)

// sine returns n samples of a freq Hz sine of amplitude amp at 8 kHz.
func sine(freq, amp float64, n int) []int16 {
	return sineAt(freq, amp, audio.SampleRate, n)
}

func sineAt(freq, amp, rate float64, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/rate)))
	}
	return s
}

// goertzel returns the amplitude of the freq Hz component of block (sampled at rate).
// Blocks here hold a whole number of cycles of the test tones, so there is no leakage.
func goertzel(block []int16, freq, rate float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*freq/rate)
	var s1, s2 float64
	for _, x := range block {
		s1, s2 = float64(x)+coeff*s1-s2, s1
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * math.Sqrt(max(power, 0)) / float64(len(block))
}

func rms(block []int16) float64 {
	var e float64
	for _, x := range block {
		e += float64(x) * float64(x)
	}
	return math.Sqrt(e / float64(len(block)))
}

// toneBlocks splits samples into 20 ms blocks and counts those that are not silent and
// those that are a clean freq Hz tone (≥ 90% of the block's energy); mean is the clean
// blocks' average tone amplitude. Blocks hold whole cycles of the test tones.
func toneBlocks(samples []int16, freq, amp float64) (clean, loud int, mean float64) {
	n := audio.FrameSamples
	for i := 0; i+n <= len(samples); i += n {
		b := samples[i : i+n]
		r := rms(b)
		if r < amp/20 {
			continue // silence around or between the audio
		}
		loud++
		if a := goertzel(b, freq, audio.SampleRate); a*a/2 >= 0.9*r*r {
			clean++
			mean += a
		}
	}
	if clean > 0 {
		mean /= float64(clean)
	}
	return clean, loud, mean
}

// checkTone wants at least minBlocks clean freq Hz blocks at about amp in samples. Counting
// blocks rather than timing them keeps the check valid when scheduling is slow and leaves
// gaps.
func checkTone(t *testing.T, samples []int16, freq, amp float64, minBlocks int) {
	t.Helper()
	clean, loud, mean := toneBlocks(samples, freq, amp)
	t.Logf("%d samples: %d non-silent 20 ms blocks, %d clean %g Hz blocks, mean amplitude %.0f (sent %.0f)",
		len(samples), loud, clean, freq, mean, amp)
	if clean < minBlocks {
		t.Fatalf("found %d clean %g Hz blocks, want ≥ %d", clean, freq, minBlocks)
	}
	if mean < amp/2 || mean > amp*1.5 {
		t.Errorf("tone amplitude %.0f, want about %.0f", mean, amp)
	}
}

func TestGoertzel(t *testing.T) {
	b := sine(1000, 1000, audio.FrameSamples)
	if a := goertzel(b, 1000, audio.SampleRate); math.Abs(a-1000) > 5 {
		t.Errorf("1 kHz amplitude %g, want 1000", a)
	}
	if a := goertzel(b, 700, audio.SampleRate); a > 50 {
		t.Errorf("700 Hz amplitude of a 1 kHz tone %g, want ~0", a)
	}
}
