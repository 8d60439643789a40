//go:build cgo && !noportaudio

package portaudio

import "math"

// resampler converts a mono stream between the call's rate and the device's (the device runs
// at 48 kHz or its own rate so that wideband calls keep their band: stream.go). It is a
// windowed-sinc interpolator: symmetric kernel (linear phase, so no phase distortion of
// speech), low-pass at 90% of the lower Nyquist so downsampling does not alias and upsampling
// does not image. It is push-driven: feed whatever arrived, get whatever can be computed, so
// it fits both the capture callback and Sink.Write without knowing block sizes in advance.
// audio/wav has its own; this package keeps a private one so the two can evolve separately.
type resampler struct {
	step  float64    // input samples per output sample
	half  int        // kernel half-width in input samples
	table []float64  // kernel at |x| = i/tableRes input samples, for i in [0, half*tableRes]
	buf   []float64  // unconsumed input; holds the history the next outputs need
	t     float64    // position of the next output, in input samples from buf[0]
	poly  *polyphase // the same kernel precomputed per phase, for integer rates (poly.go)
}

const (
	zeroCrossings = 8   // kernel lobes each side: ~70 dB stop band with the Blackman window
	rolloff       = 0.9 // cut-off as a fraction of the lower rate's Nyquist frequency
	tableRes      = 128 // kernel samples per input sample; linear interpolation in between
)

func newResampler(inRate, outRate float64) *resampler {
	cut := rolloff * min(1, outRate/inRate) // cut-off as a fraction of the input Nyquist
	half := int(math.Ceil(zeroCrossings / cut))
	table := make([]float64, half*tableRes+2) // +2: the lookup reads one past the end
	for i := range table {
		x := float64(i) / tableRes
		if x >= float64(half) {
			break
		}
		u := x / float64(half)
		w := 0.42 + 0.5*math.Cos(math.Pi*u) + 0.08*math.Cos(2*math.Pi*u) // Blackman
		table[i] = cut * sinc(cut*x) * w
	}
	r := &resampler{step: inRate / outRate, half: half, table: table}
	// Start half a kernel into a run of silence so the first output is centred on the first
	// input sample: no leading delay, no startup transient beyond the kernel's own.
	r.buf = make([]float64, half, 4*half)
	r.t = float64(half)
	r.poly = newPolyphase(inRate, outRate, half, r.exact)
	return r
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

func (r *resampler) kernel(x float64) float64 {
	x = math.Abs(x) * tableRes
	i := int(x)
	if i >= len(r.table)-1 {
		return 0
	}
	f := x - float64(i)
	return r.table[i] + f*(r.table[i+1]-r.table[i])
}

// exact is the kernel at x input samples, computed rather than looked up (for poly's tables).
func (r *resampler) exact(x float64) float64 {
	x = math.Abs(x)
	if x >= float64(r.half) {
		return 0
	}
	cut := r.table[0] // the kernel's centre is cut × sinc(0) × window(0) = cut
	u := x / float64(r.half)
	w := 0.42 + 0.5*math.Cos(math.Pi*u) + 0.08*math.Cos(2*math.Pi*u)
	return cut * sinc(cut*x) * w
}

// process consumes in and appends every output sample it can now compute to out.
func (r *resampler) process(in []int16, out []int16) []int16 {
	for _, s := range in {
		r.buf = append(r.buf, float64(s))
	}
	if r.poly != nil {
		return r.poly.run(r, out)
	}
	for {
		c := int(r.t) // the kernel spans buf[c-half+1 .. c+half]
		if c+r.half >= len(r.buf) {
			break
		}
		var acc float64
		for j := c - r.half + 1; j <= c+r.half; j++ {
			acc += r.buf[j] * r.kernel(r.t-float64(j))
		}
		out = append(out, clamp16(acc))
		r.t += r.step
	}
	// Drop input no future output can reach, keeping buf (and t) small.
	if first := int(r.t) - r.half + 1; first > 0 {
		n := copy(r.buf, r.buf[first:])
		r.buf = r.buf[:n]
		r.t -= float64(first)
	}
	return out
}

func clamp16(v float64) int16 {
	v = math.Round(v)
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}
