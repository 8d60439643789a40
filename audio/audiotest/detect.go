package audiotest

import (
	"math"
	"time"
)

// Levels are in dB relative to full scale, measured as RMS: a full-scale sine is −3.01 dBFS
// (the convention sox uses). Silence is −Inf.

// Detection thresholds used by DetectTone and FirstToneOnset.
const (
	// MinToneLevelDBFS: quieter tones count as absent (dither, codec idle noise).
	MinToneLevelDBFS = -60.0
	// MinToneContrastDB: a tone must stand this far above the spectrum a few bins to either
	// side. Comparing with neighbours rather than the whole signal lets a tone be found in
	// noise, under other tones or over G.711 quantisation noise, which is spread wide.
	MinToneContrastDB = 15.0
	// detectBlock is the analysis block of DetectTone: 50 ms gives 20 Hz bins, narrow
	// enough to separate tones, wide enough to forgive a few Hz of frequency error.
	detectBlock = 50 * time.Millisecond
)

// Goertzel returns the power of the component at freqHz in samples, as the mean square it
// contributes relative to full scale: A²/2 for a sine of peak amplitude A (0..1). It uses a
// Hann window, so energy at other frequencies leaks little into the result; freqHz need not
// fall on a DFT bin.
func Goertzel(samples []int16, sampleRate int, freqHz float64) float64 {
	if len(samples) == 0 || sampleRate <= 0 {
		return 0
	}
	win, sum := hann(len(samples))
	return goertzel(samples, win, sum, sampleRate, freqHz)
}

func goertzel(samples []int16, win []float64, winSum float64, rate int, freq float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for i, x := range samples {
		s1, s2 = win[i]*float64(x)/32768+coeff*s1-s2, s1
	}
	// |X|² of the windowed DFT at freq; a sine of amplitude A gives |X| = A·Σw/2.
	mag2 := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * mag2 / (winSum * winSum)
}

// hann returns a Hann window of n points (never exactly zero, so no sample is wasted) and its sum.
func hann(n int) ([]float64, float64) {
	w := make([]float64, n)
	sum := 0.0
	for i := range w {
		s := math.Sin(math.Pi * (float64(i) + 0.5) / float64(n))
		w[i] = s * s
		sum += w[i]
	}
	return w, sum
}

// Level returns the RMS level of samples in dBFS.
func Level(samples []int16) float64 {
	if len(samples) == 0 {
		return math.Inf(-1)
	}
	return dB(meanSquare(samples))
}

func meanSquare(samples []int16) float64 {
	sum := 0.0
	for _, x := range samples {
		v := float64(x) / 32768
		sum += v * v
	}
	return sum / float64(len(samples))
}

func dB(power float64) float64 { return 10 * math.Log10(power) } // −Inf for 0

// DetectTone reports whether samples contain a tone at freq. levelDBFS is the tone's level
// (averaged over the whole slice) and snrDB its power relative to everything else in the
// signal — noise, distortion, quantisation, other sounds — which is what to assert on to
// check a path's quality (it reads at most 120 dB; a clean 16-bit tone shows 90 or more).
// found needs the tone above MinToneLevelDBFS and MinToneContrastDB above its spectral
// neighbours. Silence gives -Inf for both numbers.
func DetectTone(samples []int16, rate int, freq float64) (found bool, levelDBFS, snrDB float64) {
	block := int(float64(rate) * detectBlock.Seconds())
	m := measure(samples, rate, freq, block)
	return m.found(), dB(m.tone), m.snr()
}

// toneMeasure holds average powers over the analysed blocks.
type toneMeasure struct {
	tone       float64 // at the target frequency
	neighbours float64 // mean over a few frequencies just beside it
	total      float64 // mean square of the signal
}

func (m toneMeasure) found() bool {
	if m.tone <= 0 || dB(m.tone) < MinToneLevelDBFS {
		return false
	}
	return m.neighbours == 0 || dB(m.tone/m.neighbours) >= MinToneContrastDB
}

func (m toneMeasure) snr() float64 {
	if m.tone <= 0 {
		return math.Inf(-1)
	}
	// The two estimators differ slightly, so a pure tone can leave a residue at or below
	// zero; 120 dB is beyond what 16-bit audio can show anyway.
	rest := math.Max(m.total-m.tone, m.total*1e-12)
	return dB(m.tone / rest)
}

// measure analyses samples in whole blocks of block samples (one shorter block if that is all
// there is) and averages the results.
func measure(samples []int16, rate int, freq float64, block int) toneMeasure {
	if len(samples) == 0 || rate <= 0 {
		return toneMeasure{}
	}
	block = max(1, min(block, len(samples)))
	a := newAnalyser(rate, freq, block)
	var sum toneMeasure
	n := len(samples) / block
	for b := range n {
		m := a.measure(samples[b*block : (b+1)*block])
		sum.tone += m.tone
		sum.neighbours += m.neighbours
		sum.total += m.total
	}
	return toneMeasure{sum.tone / float64(n), sum.neighbours / float64(n), sum.total / float64(n)}
}

// analyser measures one block length at one frequency, reusing its window.
type analyser struct {
	rate   int
	freq   float64
	others []float64 // neighbouring frequencies to compare against
	win    []float64
	winSum float64
}

func newAnalyser(rate int, freq float64, block int) *analyser {
	a := &analyser{rate: rate, freq: freq}
	a.win, a.winSum = hann(block)
	// The Hann main lobe is ±2 bins wide; 4 and 6 bins away see only the tone's far
	// sidelobes, yet are close enough to share its share of noise.
	bin := float64(rate) / float64(block)
	for _, k := range []float64{-6, -4, 4, 6} {
		f := freq + k*bin
		if f > 2*bin && f < float64(rate)/2-2*bin {
			a.others = append(a.others, f)
		}
	}
	return a
}

func (a *analyser) measure(block []int16) toneMeasure {
	m := toneMeasure{
		tone:  goertzel(block, a.win, a.winSum, a.rate, a.freq),
		total: meanSquare(block),
	}
	for _, f := range a.others {
		m.neighbours += goertzel(block, a.win, a.winSum, a.rate, f) / float64(len(a.others))
	}
	return m
}

// FirstToneOnset finds when a tone at freq starts in samples, analysing with windows of
// windowMs milliseconds (20 is a good choice) stepped by 1 ms. The tone must then last at
// least one window length. The estimate is where the tone's amplitude reaches half its
// steady value, refined within the window, so an abrupt onset is found to about a
// millisecond whatever the window.
func FirstToneOnset(samples []int16, rate int, freq float64, windowMs int) (time.Duration, bool) {
	win := rate * windowMs / 1000
	if rate <= 0 || win < 1 || len(samples) < win {
		return 0, false
	}
	hop := max(1, rate/1000)
	steps := (len(samples)-win)/hop + 1
	a := newAnalyser(rate, freq, win)
	amp := make([]float64, steps)
	found := make([]bool, steps)
	for i := range steps {
		m := a.measure(samples[i*hop : i*hop+win])
		amp[i], found[i] = math.Sqrt(m.tone), m.found()
	}

	sustain := max(1, win/hop)
	first := -1
	for i := range steps {
		j := i
		for j < steps && j < i+sustain && found[j] {
			j++
		}
		if j > i && (j == i+sustain || j == steps) {
			first = i
			break
		}
	}
	if first < 0 {
		return 0, false
	}
	// A window wholly inside the tone gives its steady amplitude; go back to the first
	// window holding at least half of it.
	ref := amp[min(first+sustain, steps-1)]
	start := first
	for start > max(0, first-sustain) && amp[start-1] >= ref/2 {
		start--
	}
	for start < steps-1 && amp[start] < ref/2 {
		start++
	}
	// The share of the window's weight after the onset equals amp/ref; invert the Hann
	// window's cumulative weight to place the onset inside the window.
	x := hannOnset(math.Min(1, amp[start]/ref))
	onset := float64(start*hop) + x*float64(win)
	return time.Duration(onset / float64(rate) * float64(time.Second)), true
}

// hannOnset returns the x in [0, 1] where the fraction r of a Hann window's weight lies
// after x, by bisection of 1 - C(x) = r with C(x) = x - sin(2πx)/(2π).
func hannOnset(r float64) float64 {
	lo, hi := 0.0, 1.0
	for range 50 {
		mid := (lo + hi) / 2
		after := 1 - (mid - math.Sin(2*math.Pi*mid)/(2*math.Pi))
		if after > r {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
