// Package quality estimates how a call sounds from its network figures with the ITU-T G.107
// E-model: R = Ro − Is − Id − Ie,eff + A, and a MOS (conversational quality, G.107 Annex B)
// from R. It is the one E-model in dialtone: the live MOS of a call, its summary in the
// history and `dialtone load` all come from here.
//
// Simplifications, each chosen because a softphone cannot know the input:
//   - The terminal and loudness parameters (SLR, RLR, STMR, TELR, WEPL, room noise, ...) keep
//     G.107's default values, so Ro − Is is G.107's 93.34 and R with no delay and no loss is
//     the well-known 93.2. Echo is assumed cancelled (TELR 65 dB).
//   - The delay impairment Id follows the full G.107 formulas (Idte + Idle + Idd) with the
//     echo path and the absolute delay both equal to the one-way mouth-to-ear delay
//     (T = Ta = d, Tr = 2d), which is how a VoIP path with echo cancellation is usually rated.
//   - Loss is random unless the caller knows better (BurstR 1).
//   - Wideband codecs (G.722, Opus) are rated with the G.107.1 wideband model (Ro,WB 129,
//     the codec's Ie,WB) and brought back to the narrowband scale by G.107.1's factor
//     R = R_WB / 1.29 before the MOS formula, so one MOS scale serves every call: see codecs.go.
package quality

import "math"

// G.107 default values (Table 3 of G.107) for the parameters a softphone cannot measure.
const (
	defSLR   = 8.0   // send loudness rating, dB
	defRLR   = 2.0   // receive loudness rating, dB
	defSTMR  = 15.0  // sidetone masking rating, dB
	defLSTR  = 18.0  // listener sidetone rating, dB
	defDs    = 3.0   // D-value of the telephone, send side
	defTELR  = 65.0  // talker echo loudness rating, dB (echo cancelled)
	defWEPL  = 110.0 // weighted echo path loss, dB
	defQdu   = 1.0   // quantizing distortion units
	defNc    = -70.0 // circuit noise, dBm0p
	defNfor  = -64.0 // noise floor at the receive side, dBmp
	defPs    = 35.0  // room noise at the send side, dB(A)
	defPr    = 35.0  // room noise at the receive side, dB(A)
	defMT    = 100.0 // mT: the delay below which Idd is 0, ms
	wbFactor = 1.29  // G.107.1: R_WB = 1.29 × R on the narrowband scale (Ro,WB = 129)
)

// ro and is are Ro and Is for the default parameters, computed once from G.107's formulas
// (about 94.77 and 1.41) rather than typed in, so the test that R is 93.2 checks the formulas.
var ro, is = basicRatings()

// basicRatings is G.107 §7.2–7.3 for the default parameters.
func basicRatings() (ro, is float64) {
	olr := defSLR + defRLR
	no := noise()
	ro = 15 - 1.5*(defSLR+no)

	xolr := olr + 0.2*(64+no-defRLR)
	iolr := 20 * (math.Pow(1+math.Pow(xolr/8, 8), 1.0/8) - xolr/8)
	stmro := -10 * math.Log10(math.Pow(10, -defSTMR/10)+math.Pow(10, -defTELR/10)) // T = 0: e^(−T/4) = 1
	ist := 12*math.Pow(1+math.Pow((stmro-13)/6, 8), 1.0/8) -
		28*math.Pow(1+math.Pow((stmro+1)/19.4, 35), 1.0/35) -
		13*math.Pow(1+math.Pow((stmro-3)/33, 13), 1.0/13) + 29
	q := 37 - 15*math.Log10(defQdu)
	g := 1.07 + 0.258*q + 0.0602*q*q
	y := (ro-100)/15 + 46/8.4 - g/9
	z := 46.0/30 - g/40
	iq := 15 * math.Log10(1+math.Pow(10, y)+math.Pow(10, z))
	return ro, iolr + ist + iq
}

// Id is the delay impairment for a one-way mouth-to-ear delay of d milliseconds (G.107
// §7.4: talker echo Idte, listener echo Idle and absolute delay Idd), with T = Ta = d and
// Tr = 2d. Id(0) is 0.15, which is why the default R is 93.2 and not Ro − Is = 93.34.
func Id(d float64) float64 {
	if d < 0 || math.IsNaN(d) {
		d = 0
	}
	d = math.Min(d, 1e5) // beyond any call; keeps the exponentials finite
	t, tr, ta := d, 2*d, d

	// Talker echo: TERV is the echo's loudness rating weighted by its delay.
	terv := defTELR - 40*math.Log10((1+t/10)/(1+t/150)) + 6*math.Exp(-0.3*t*t)
	no := noise()
	roe := -1.5 * (no - defRLR)
	re := 80 + 2.5*(terv-14)
	// With TELR 65 dB the bracket is slightly negative (about −0.17) for the first few ms of
	// T: clamped at 0, so that more delay never rates a call better.
	idte := math.Max(0, ((roe-re)/2+math.Sqrt(sq(roe-re)/4+100)-1)*(1-math.Exp(-t)))

	// Listener echo.
	rle := 10.5 * (defWEPL + 7) * math.Pow(tr+1, -0.25)
	idle := (ro-rle)/2 + math.Sqrt(sq(ro-rle)/4+169)

	// Absolute delay: nothing below mT, then G.107's (1+X⁶)^⅙ curve in octaves of delay.
	idd := 0.0
	if ta > defMT {
		x := math.Log10(ta/defMT) / math.Log10(2)
		idd = 25 * (math.Pow(1+math.Pow(x, 6), 1.0/6) - 3*math.Pow(1+math.Pow(x/3, 6), 1.0/6) + 2)
	}
	return idte + idle + idd
}

// noise is No, the power sum of the noise sources, for the default parameters (about −61.2 dBm0p).
func noise() float64 {
	olr := defSLR + defRLR
	nos := defPs - defSLR - defDs - 100 + 0.004*sq(defPs-olr-defDs-14)
	pre := defPr + 10*math.Log10(1+math.Pow(10, (10-defLSTR)/10))
	nor := defRLR - 121 + pre + 0.008*sq(pre-35)
	nfo := defNfor + defRLR
	return 10 * math.Log10(math.Pow(10, defNc/10)+math.Pow(10, nos/10)+math.Pow(10, nor/10)+math.Pow(10, nfo/10))
}

// IeEff is the effective equipment impairment (G.107 §7.5): the codec's Ie raised by a packet
// loss of ppl percent, as the codec's robustness Bpl allows. burstR is the burst ratio: 1 for
// random loss, above 1 when losses come in runs (0 or less is taken as 1).
func IeEff(ie, bpl, ppl, burstR float64) float64 {
	if burstR <= 0 || math.IsNaN(burstR) {
		burstR = 1
	}
	ppl = clamp(ppl, 0, 100)
	if ppl == 0 {
		return ie
	}
	return ie + (95-ie)*ppl/(ppl/burstR+bpl)
}

// MOS is the estimated conversational mean opinion score for a rating R (G.107 Annex B):
// 1 below R 0, 4.5 above R 100, and 1 + 0.035R + R(R−60)(100−R)·7·10⁻⁶ between (clamped at 1:
// the polynomial dips just under it for R below about 6.5).
func MOS(r float64) float64 {
	switch {
	case math.IsNaN(r) || r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	return math.Max(1, 1+0.035*r+r*(r-60)*(100-r)*7e-6)
}

// Input is what one estimate needs.
type Input struct {
	Codec   Codec
	LossPct float64 // packets lost (or too late to play) as a percentage of those expected
	BurstR  float64 // burst ratio; 0 or 1 for random loss
	DelayMs float64 // one-way mouth-to-ear delay in ms (see OneWayDelay)
	A       float64 // advantage factor (G.107 Table 1: 0 for wired, up to 5 for mobile)
}

// Rating is an estimate: R on the narrowband scale and the MOS it gives.
type Rating struct {
	R, MOS float64
}

// Estimate rates a call. Narrowband codecs use G.107 (R 93.2 at best); wideband ones use
// G.107.1 (Ro,WB 129 less the codec's Ie,WB) and are divided by 1.29 onto the same scale.
// The delay impairment is G.107's, scaled by 1.29 on the wideband scale, which is how G.107.1
// carries the narrowband delay results over.
func Estimate(in Input) Rating {
	c := in.Codec
	ie := IeEff(c.Ie, c.Bpl, in.LossPct, in.BurstR)
	id := Id(in.DelayMs)
	var r float64
	if c.Wideband {
		r = (wbFactor*100 - wbFactor*id - ie + in.A) / wbFactor
	} else {
		r = ro - is - id - ie + in.A
	}
	return Rating{R: r, MOS: MOS(r)}
}

func sq(x float64) float64 { return x * x }

func clamp(v, lo, hi float64) float64 {
	if math.IsNaN(v) {
		return lo
	}
	return math.Min(hi, math.Max(lo, v))
}
