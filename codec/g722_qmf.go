package codec

// The quadrature mirror filters of G.722, transmit and receive: one 24-tap
// half-band filter, split into its even and odd phases, separates 16 kHz audio into a lower
// and an upper 8 kHz band and puts them back together. The coefficients are h(0)..h(23) of
// the Recommendation's table scaled by 2^13; the filter is symmetric, h(i) = h(23-i).
var qmfCoeffs = [24]int32{3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876,
	3876, 951, -805, -210, 362, 32, -156, 12, 53, -11, -11, 3}

// qmfLine is a filter's 24-sample delay line kept twice over, so that the 24 newest samples,
// oldest first, are always one contiguous window and a new pair costs two stores (at both
// copies of the slots the oldest pair vacates) instead of moving the other 22.
type qmfLine struct {
	buf   [48]int32
	start int // the window's first index, even, 0..22
}

// push adds a pair and returns the window, oldest first.
func (l *qmfLine) push(a, b int32) *[24]int32 {
	i := l.start
	l.buf[i], l.buf[i+1], l.buf[i+24], l.buf[i+25] = a, b, a, b
	l.start = (i + 2) % 24
	return (*[24]int32)(l.buf[l.start : l.start+24])
}

// analyse takes the next two input samples (x0 first in time) and returns the lower and upper
// band samples XL and XH. XA sums the even taps over the newest sample's phase and XB the odd
// taps over the other; by the filter's symmetry these are the odd and even positions of the
// delay line when it is kept oldest first.
func (e *G722Encoder) analyse(x0, x1 int16) (xl, xh int32) {
	h := e.qmf.push(int32(x0), int32(x1))
	var xa, xb int32
	for i := 0; i < 24; i += 2 {
		xb += qmfCoeffs[i] * h[i]
		xa += qmfCoeffs[i+1] * h[i+1]
	}
	// 16-bit PCM is the Recommendation's 14-bit input shifted left by two; with the 2^13
	// coefficient scale and the filter's gain of 2, >> 14 gives the 15-bit band signals,
	// limited to 15 bits as in the ITU-T reference (only input shaped like the filter itself
	// gets there).
	return limit15((xa + xb) >> 14), limit15((xa - xb) >> 14)
}

// synthesise takes one reconstructed sample of each band and returns the next two output
// samples, first in time first: the first is the even taps h(0), h(2), … over the
// difference RL-RH, newest first, the second the odd taps over the sum RL+RH. Kept oldest
// first in the delay line, the symmetry turns that into the neighbouring tap of each slot.
func (d *G722Decoder) synthesise(rl, rh int32) (int16, int16) {
	h := d.qmf.push(rl-rh, rl+rh)
	var x0, x1 int32
	for i := 0; i < 24; i += 2 {
		x0 += qmfCoeffs[i+1] * h[i]
		x1 += qmfCoeffs[i] * h[i+1]
	}
	// The gain of 2 of the Recommendation's output and the 14-to-16-bit shift of the PCM
	// make >> 11 out of the coefficients' 2^13.
	return int16(sat16(x0 >> 11)), int16(sat16(x1 >> 11))
}
