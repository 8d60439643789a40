package wav

import (
	"fmt"
	"math"
)

// Filter design, in units of the lower of the two rates (8 kHz in dialtone, so 0.45 is
// 3.6 kHz). The Kaiser window's transition band runs from 0.40 to 0.50 of the lower rate
// (3.2–4.0 kHz): everything at or above the lower rate's Nyquist frequency — the part that
// would alias when downsampling, or the images when upsampling — is in the stopband.
const (
	cutoff     = 0.45 // -6 dB point, as a fraction of the lower rate
	halfWidth  = 32   // filter half-length in lower-rate samples (±4 ms at 8 kHz)
	kaiserBeta = 10.0 // about 100 dB of stopband attenuation

	// An exact polyphase table has one row per output phase (up rows). Awkward rate pairs
	// (44056 Hz → 8000 Hz needs 1000 phases) would make it big, so past this many
	// coefficients the table keeps fewer rows and interpolates linearly between them.
	maxTableCoefs = 1 << 17
	maxPhases     = 512 // rows of an interpolated table, at most
	minPhases     = 32  // and at least

	maxRatio   = 256  // largest supported rate ratio, either direction
	blockLen   = 1024 // input samples buffered per step, beyond the filter history
	maxRateArg = 1 << 22
)

// Resampler converts a mono stream from one sample rate to another with a polyphase
// windowed-sinc (Kaiser) low-pass filter: band-limited, so downsampling does not alias and
// upsampling leaves no images. It works in both directions (48 kHz ↔ 8 kHz), keeps its
// state between calls so audio can be fed in pieces of any size, and allocates nothing after
// NewResampler. A Resampler is not safe for concurrent use.
type Resampler struct {
	inRate, outRate int
	up, down        int  // outRate/inRate = up/down in lowest terms
	half            int  // look-ahead of the filter in input samples
	taps            int  // 2*half + 1
	phases          int  // table rows, not counting the extra row used for interpolation
	exact           bool // phases == up: no interpolation between rows
	coefs           []float32

	buf   []float32 // input history: buf[i] is input sample number base+i
	base  int64
	next  int64 // newest input sample the next output needs
	frac  int   // the next output's position past sample next-half, in 1/up of a sample
	delay bool  // CompensateDelay was called

	in16, out16 []float32 // scratch for ProcessInt16
}

// NewResampler returns a Resampler from inRate to outRate (Hz). The rates may differ by at
// most a factor of 256; equal rates give a pass-through.
func NewResampler(inRate, outRate int) (*Resampler, error) {
	if inRate <= 0 || outRate <= 0 || inRate > maxRateArg || outRate > maxRateArg {
		return nil, fmt.Errorf("wav: resampler: invalid rates %d Hz → %d Hz", inRate, outRate)
	}
	if inRate > outRate*maxRatio || outRate > inRate*maxRatio {
		return nil, fmt.Errorf("wav: resampler: %d Hz → %d Hz is beyond the supported %d:1 ratio", inRate, outRate, maxRatio)
	}
	g := gcd(inRate, outRate)
	r := &Resampler{inRate: inRate, outRate: outRate, up: outRate / g, down: inRate / g}
	if r.up == r.down {
		return r, nil
	}
	lower := min(inRate, outRate)
	// The filter spans ±halfWidth lower-rate samples, which is this many input samples.
	r.half = int(math.Ceil(float64(halfWidth) * float64(inRate) / float64(lower)))
	r.taps = 2*r.half + 1
	r.phases = r.up
	if r.up*r.taps > maxTableCoefs {
		r.phases = min(maxPhases, max(minPhases, maxTableCoefs/r.taps))
	}
	r.exact = r.phases == r.up
	r.coefs = designTable(r.phases, r.taps, r.half, float64(lower)/float64(inRate))
	r.buf = make([]float32, 0, r.taps-1+blockLen)
	r.in16 = make([]float32, blockLen)
	r.out16 = make([]float32, blockLen)
	r.Reset()
	return r, nil
}

// designTable computes phases+1 rows of taps coefficients. Row p is the filter for an output
// that falls p/phases of an input sample after the centre tap; the extra last row (p =
// phases) lets interpolation reach the next whole sample. Coefficients are stored in input
// order, oldest sample first, so filtering is a plain dot product with the history.
// scale converts input samples to lower-rate samples.
func designTable(phases, taps, half int, scale float64) []float32 {
	coefs := make([]float32, (phases+1)*taps)
	i0Beta := besselI0(kaiserBeta)
	row := make([]float64, taps)
	for p := 0; p <= phases; p++ {
		frac := float64(p) / float64(phases)
		sum := 0.0
		for j := range taps {
			// Tap j multiplies the sample half-j input samples before the output's centre...
			// expressed in lower-rate samples, where the cutoff and window are defined.
			t := (frac + float64(half-j)) * scale
			row[j] = 0
			if math.Abs(t) < halfWidth {
				x := t / halfWidth
				w := besselI0(kaiserBeta*math.Sqrt(1-x*x)) / i0Beta
				row[j] = 2 * cutoff * sinc(2*cutoff*t) * w
			}
			sum += row[j]
		}
		// Normalising each row to unity DC gain keeps every phase at the same level, so a
		// steady signal does not pick up a ripple at the phase rate.
		for j := range taps {
			coefs[p*taps+j] = float32(row[j] / sum)
		}
	}
	return coefs
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the modified Bessel function of the first kind, order 0 (power series).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 200; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-16 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Reset forgets all input, as if the Resampler were new (CompensateDelay is undone too).
func (r *Resampler) Reset() {
	if r.up == r.down {
		return
	}
	// History starts as taps-1 zeros before sample 0, so the first output can be computed.
	r.buf = r.buf[:r.taps-1]
	clear(r.buf)
	r.base = -int64(r.taps - 1)
	r.next, r.frac, r.delay = 0, 0, false
}

// Unplayed returns a copy of the input samples the Resampler holds that no output has reached
// yet (from the next output's position on): fed to another Resampler, the stream carries on
// where this one stopped, give or take the filter's delay.
func (r *Resampler) Unplayed() []float32 {
	if r.up == r.down {
		return nil
	}
	from := r.next - r.base
	if from < 0 {
		from = 0
	}
	if from >= int64(len(r.buf)) {
		return nil
	}
	return append([]float32(nil), r.buf[from:]...)
}

// Latency is the filter's delay in input samples: without CompensateDelay, output sample n
// lines up with input time n*inRate/outRate - Latency().
func (r *Resampler) Latency() int { return r.half }

// CompensateDelay makes output sample 0 line up with input sample 0, as a file converter
// wants: outputs are then held back until Latency() input samples of look-ahead have
// arrived, and the last ones come out only once Latency() more samples (zeros, at the end
// of a stream) are fed. Devices should not use it: without it, every 20 ms of input yields
// exactly 20 ms of output. Call it after NewResampler or Reset, before Process.
func (r *Resampler) CompensateDelay() {
	if r.up == r.down || r.delay {
		return
	}
	r.next += int64(r.half)
	r.delay = true
}

// Process resamples in into out. It returns how many input samples it consumed and how many
// output samples it wrote; it stops when out is full or in is used up, and keeps what it
// needs of in for later calls. Pass the unconsumed rest of in again next time.
func (r *Resampler) Process(in, out []float32) (consumed, produced int) {
	if r.up == r.down {
		n := copy(out, in)
		return n, n
	}
	for {
		for produced < len(out) && r.next < r.base+int64(len(r.buf)) {
			end := int(r.next-r.base) + 1
			out[produced] = r.filter(r.buf[end-r.taps : end])
			produced++
			r.frac += r.down
			r.next += int64(r.frac / r.up)
			r.frac %= r.up
		}
		if produced == len(out) || consumed == len(in) {
			return consumed, produced
		}
		// Forget history no future output needs, and skip input that none will (large
		// downsampling ratios step over more samples per output than the history holds).
		oldest := r.next - int64(r.taps-1)
		if drop := oldest - r.base; drop >= int64(len(r.buf)) {
			r.base += int64(len(r.buf))
			r.buf = r.buf[:0]
			skip := min(oldest-r.base, int64(len(in)-consumed))
			consumed += int(skip)
			r.base += skip
		} else if drop > 0 {
			n := copy(r.buf, r.buf[drop:])
			r.buf = r.buf[:n]
			r.base += drop
		}
		n := copy(r.buf[len(r.buf):cap(r.buf)], in[consumed:])
		r.buf = r.buf[:len(r.buf)+n]
		consumed += n
	}
}

// filter computes one output from the taps samples in x, for the current phase.
func (r *Resampler) filter(x []float32) float32 {
	if r.exact {
		return dot(r.coefs[r.frac*r.taps:(r.frac+1)*r.taps], x)
	}
	pos := int64(r.frac) * int64(r.phases)
	row := int(pos / int64(r.up))
	w := float32(pos%int64(r.up)) / float32(r.up)
	a := dot(r.coefs[row*r.taps:(row+1)*r.taps], x)
	b := dot(r.coefs[(row+1)*r.taps:(row+2)*r.taps], x)
	return a + w*(b-a)
}

// dot is the inner loop; four accumulators let the CPU overlap the multiply-adds.
func dot(c, x []float32) float32 {
	x = x[:len(c)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(c); i += 4 {
		s0 += c[i] * x[i]
		s1 += c[i+1] * x[i+1]
		s2 += c[i+2] * x[i+2]
		s3 += c[i+3] * x[i+3]
	}
	for ; i < len(c); i++ {
		s0 += c[i] * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// ProcessInt16 is Process for 16-bit samples; output is rounded and clipped to int16.
func (r *Resampler) ProcessInt16(in, out []int16) (consumed, produced int) {
	if r.up == r.down {
		n := copy(out, in)
		return n, n
	}
	for {
		nIn := min(len(in)-consumed, len(r.in16))
		for i, s := range in[consumed : consumed+nIn] {
			r.in16[i] = float32(s) / 32768
		}
		nOut := min(len(out)-produced, len(r.out16))
		c, p := r.Process(r.in16[:nIn], r.out16[:nOut])
		for i, f := range r.out16[:p] {
			out[produced+i] = floatToInt16(f)
		}
		consumed += c
		produced += p
		if c == 0 && p == 0 {
			return consumed, produced
		}
	}
}

// floatToInt16 scales a sample in [-1, 1) to int16, rounding and clipping.
func floatToInt16(f float32) int16 {
	v := math.Round(float64(f) * 32768)
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	case v != v: // NaN from a corrupt float file
		return 0
	}
	return int16(v)
}
