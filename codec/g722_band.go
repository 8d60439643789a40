package codec

// The sub-band ADPCM of ITU-T G.722, encoder and decoder, block by block, in the
// Recommendation's 16-bit fixed-point arithmetic: every "limited" result saturates to 16 bits
// as the reference's basic operators do, since the test sequences exercise overload and a
// codec that wraps instead drifts away from every other G.722 on the wire.

const (
	detLowMin  = 32 // the lower band's reset scale factor (SCALEL with NBL = 0)
	detHighMin = 8  // the upper band's (SCALEH with NBH = 0)
)

// band is one sub-band's ADPCM state, the same blocks for both bands.
type band struct {
	s, sz int32    // signal estimate SL and its zero-section part SZL
	a     [3]int32 // pole coefficients A1, A2 (index 0 unused)
	b     [7]int32 // zero coefficients B1..B6
	d     [7]int32 // quantised differences DLT, DLT1..DLT6
	p     [3]int32 // partially reconstructed signal PLT, PLT1, PLT2
	r     [3]int32 // reconstructed signal RLT, RLT1, RLT2
	nb    int32    // logarithmic scale factor NBL/NBH
	det   int32    // scale factor DETL/DETH
}

func (b *band) reset(det int32) { *b = band{det: det} }

// sat16 is the reference's saturation of a result to a 16-bit word.
// Branches, not min/max: saturation is rare, so they predict well and beat the conditional
// moves on the common path.
func sat16(x int32) int32 {
	if x > 32767 {
		return 32767
	}
	if x < -32768 {
		return -32768
	}
	return x
}

// limit15 is LIMIT: a band signal clamped to 15 bits.
func limit15(x int32) int32 { return min(max(x, -16384), 16383) }

// mult is the Q15 multiply: (x*y) >> 15 with the one overflow, -1 * -1, saturated.
func mult(x, y int32) int32 { return sat16((x * y) >> 15) }

// magnitude is |e| with negatives in one's complement (-e-1), so the quantiser cells are
// symmetric about -½ (QUANTL's WD).
func magnitude(e int32) int32 {
	if e < 0 {
		return -(e + 1)
	}
	return e
}

// quantL6 are the lower band's 6-bit quantiser decision levels Q6 (QUANTL), in units
// of DETL/4096; quantL6Neg and quantL6Pos map the cell number MIL to the code ILN or ILP.
var (
	quantL6 = [30]int32{0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587,
		650, 714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557,
		2919}
	quantL6Neg = [31]int32{0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18,
		17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4}
	quantL6Pos = [31]int32{0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46,
		45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32}
)

// invL4 is the 4-bit inverse quantiser QM4 (INVQAL), which drives the lower band's
// prediction in every mode; invL6 is the 6-bit one QM6 that gives the 64 kbit/s output.
var (
	invL4 = [16]int32{0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
		20456, 12896, 8968, 6288, 4240, 2584, 1200, 0}
	invL6 = [64]int32{-136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984,
		-13512, -12280, -11192, -10232, -9360, -8576, -7856, -7192, -6576, -6000, -5456,
		-4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
		24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856,
		7192, 6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360,
		1040, 728, 432, 136, -432, -136}
	// invH2 is the upper band's 2-bit inverse quantiser QM2 (INVQAH).
	invH2 = [4]int32{-7408, -1616, 7408, 1616}
)

// The log scale factor multipliers (LOGSCL, LOGSCH): WL indexed through RIL's magnitude RL42
// for the lower band, WH through RH2 for the upper; ila is the 2^x table ILB (SCALEL).
var (
	logL = [16]int32{-60, 3042, 1198, 538, 334, 172, 58, -30, 3042, 1198, 538, 334, 172, 58,
		-30, -60}
	logH = [4]int32{798, -214, 798, -214}
	ila  = [32]int32{2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599,
		2656, 2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520,
		3597, 3676, 3756, 3838, 3922, 4008}
)

// encodeLow is the lower band encoder for one sample: SUBTRA, QUANTL, then the adaptation
// shared with the decoder. It returns the 6-bit code IL.
func (b *band) encodeLow(xl int32) int32 {
	el := sat16(xl - b.s)
	wd := magnitude(el)
	// MIL is the first cell whose upper level is above WD (30 if none): a binary search over
	// the increasing levels, five comparisons instead of up to thirty.
	lo, hi := 1, 30
	for lo < hi {
		m := (lo + hi) / 2
		if wd < (quantL6[m]*b.det)>>12 {
			hi = m
		} else {
			lo = m + 1
		}
	}
	mil := lo
	il := quantL6Pos[mil]
	if el < 0 {
		il = quantL6Neg[mil]
	}
	b.adaptLow(il)
	return il
}

// decodeLow is the lower band decoder at 64 kbit/s for one code: INVQBL with the 6-bit
// quantiser, RECONS and LIMIT for the output, then the adaptation with the 4-bit one.
func (b *band) decodeLow(il int32) int32 {
	dl := mult(b.det, invL6[il])
	rl := limit15(sat16(b.s + dl))
	b.adaptLow(il)
	return rl
}

// adaptLow runs INVQAL (the 4-bit difference DLT), LOGSCL and SCALEL, then the predictor.
func (b *band) adaptLow(il int32) {
	ril := il >> 2
	b.d[0] = mult(b.det, invL4[ril])
	b.nb = min(max(b.nb*32512>>15+logL[ril], 0), 18432)
	b.det = scale(b.nb, 8)
	b.predict()
}

// encodeHigh is the upper band encoder for one sample: SUBTRA, QUANTH (one decision level,
// 564 × DETH/4096), then the adaptation. It returns the 2-bit code IH.
func (b *band) encodeHigh(xh int32) int32 {
	eh := sat16(xh - b.s)
	var ih int32 = 3 // positive, inner cell
	if magnitude(eh) >= (564*b.det)>>12 {
		ih = 2 // positive, outer cell
	}
	if eh < 0 {
		ih -= 2 // the negative codes are 1 (inner) and 0 (outer)
	}
	b.adaptHigh(ih)
	return ih
}

// decodeHigh is the upper band decoder for one code: INVQAH, RECONS and LIMIT.
func (b *band) decodeHigh(ih int32) int32 {
	rh := limit15(sat16(b.s + mult(b.det, invH2[ih])))
	b.adaptHigh(ih)
	return rh
}

// adaptHigh runs INVQAH (the same difference the decoder outputs), LOGSCH and SCALEH, then
// the predictor.
func (b *band) adaptHigh(ih int32) {
	b.d[0] = mult(b.det, invH2[ih])
	b.nb = min(max(b.nb*32512>>15+logH[ih], 0), 22528)
	b.det = scale(b.nb, 10)
	b.predict()
}

// scale is SCALEL/SCALEH: DET = 32 × 2^(NB/2048) for the lower band (shift 8) and 8 × 2^(NB/2048)
// for the upper (shift 10), from the 32-entry table of one octave.
func scale(nb, shift int32) int32 {
	wd1 := (nb >> 6) & 31
	wd2 := shift - nb>>11
	if wd2 < 0 {
		return (ila[wd1] << -wd2) << 2
	}
	return (ila[wd1] >> wd2) << 2
}

// predict is the adaptive predictor (block 4) for the difference in d[0]: PARREC and RECONS,
// UPZERO, UPPOL2, UPPOL1, the delays, FILTEZ, FILTEP and PREDIC, leaving the next estimate in s.
func (b *band) predict() {
	dlt := b.d[0]
	p0 := sat16(dlt + b.sz)
	r0 := sat16(b.s + dlt)

	// UPZERO: each B leaks by 1/256 and moves 128 toward agreeing with the new difference's
	// sign (not at all when the difference is zero); the difference line shifts; and FILTEZ
	// sums the new B over the shifted line, saturating after every term, in the reference's
	// order (B6 first), which is also the order the update may run in.
	var step int32
	if dlt != 0 {
		step = 128
	}
	sg0 := dlt >> 15
	var sz int32
	for i := 6; i > 0; i-- {
		w := b.b[i] * 32640 >> 15 // cannot overflow
		if b.d[i]>>15 == sg0 {
			w += step
		} else {
			w -= step
		}
		bi := sat16(w)
		di := b.d[i-1]
		b.b[i], b.d[i] = bi, di
		sz = sat16(sz + mult(sat16(di+di), bi))
	}
	b.sz = sz

	// UPPOL2 and UPPOL1 with the signs of PLT, PLT1, PLT2; A2 first, since A1's bound uses it.
	a1, a2 := b.a[1], b.a[2]
	same1, same2 := p0>>15 == b.p[1]>>15, p0>>15 == b.p[2]>>15
	wd2 := sat16(a1 << 2)
	if same1 {
		wd2 = sat16(-wd2)
	}
	wd3 := int32(-128)
	if same2 {
		wd3 = 128
	}
	a2 = min(max(sat16(sat16(wd2>>7+wd3)+a2*32512>>15), -12288), 12288)
	wd1 := int32(-192)
	if same1 {
		wd1 = 192
	}
	lim := 15360 - a2
	a1 = min(max(sat16(wd1+a1*32640>>15), -lim), lim)
	b.a[1], b.a[2] = a1, a2
	b.p[2], b.p[1] = b.p[1], p0

	// FILTEP over the reconstructed signal, after its delay line moves; PREDIC.
	r1, r2 := r0, b.r[1]
	b.r[2], b.r[1] = r2, r1
	sp := sat16(mult(a1, sat16(r1+r1)) + mult(a2, sat16(r2+r2)))
	b.s = sat16(sp + sz)
}
