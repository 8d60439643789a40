package quality

import (
	"math"
	"strconv"
	"testing"
	"time"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.4f, want %.4f ± %g", what, got, want, tol)
	}
}

// G.107's defaults give Ro 94.77, Is 1.41, Id 0.15 and the well-known R 93.2, MOS 4.41.
func TestDefaultRating(t *testing.T) {
	near(t, "Ro", ro, 94.77, 0.01)
	near(t, "Is", is, 1.41, 0.01)
	near(t, "Id(0)", Id(0), 0.15, 0.01)
	r := Estimate(Input{Codec: G711})
	near(t, "R", r.R, 93.2, 0.01)
	near(t, "MOS", r.MOS, 4.41, 0.005)
}

// G.107 Annex B (Table B.1, repeated in G.109): R 90, 80, 70, 60, 50 are MOS 4.34, 4.03,
// 3.60, 3.10, 2.58.
func TestMOSFromR(t *testing.T) {
	for r, want := range map[float64]float64{90: 4.34, 80: 4.03, 70: 3.60, 60: 3.10, 50: 2.58, 100: 4.5, 120: 4.5, 0: 1, -5: 1, 3: 1} {
		near(t, "MOS at R "+ftoa(r), MOS(r), want, 0.007) // the table rounds R 80's 4.024 to 4.03
	}
	if m := MOS(math.NaN()); m != 1 {
		t.Errorf("MOS(NaN) = %v, want 1", m)
	}
}

// The delay impairment against the piecewise-linear fit of the E-model at G.107 defaults that
// Cole and Rosenbluth published ("Voice over IP performance monitoring", ACM CCR 31(2),
// 2001): Id ≈ 0.024d + 0.11(d − 177.3)H(d − 177.3). The fit tracks the model within about
// one R point up to 300 ms; beyond, it is a straight line where the model bends (their
// paper notes it overestimates there), so 400 ms gets a wider margin, and must still be
// well into "many users dissatisfied" (R below 70 with G.711).
func TestDelayImpairment(t *testing.T) {
	fit := func(d float64) float64 {
		v := 0.024 * d
		if d > 177.3 {
			v += 0.11 * (d - 177.3)
		}
		return v
	}
	for _, c := range []struct{ d, tol float64 }{{50, 0.5}, {150, 0.5}, {200, 0.5}, {250, 0.5}, {300, 0.5}, {400, 3.5}} {
		near(t, "Id("+ftoa(c.d)+") − Id(0)", Id(c.d)-Id(0), fit(c.d), c.tol)
	}
	// G.114: up to 150 ms one way most applications are unaffected (R stays in "users
	// satisfied", above 80 with G.711); at 400 ms it is no longer acceptable for planning.
	if r := Estimate(Input{Codec: G711, DelayMs: 150}).R; r < 88 {
		t.Errorf("R at 150 ms = %.2f, want at least 88", r)
	}
	if r := Estimate(Input{Codec: G711, DelayMs: 300}).R; r > 75 || r < 70 {
		t.Errorf("R at 300 ms = %.2f, want 70..75", r)
	}
	if r := Estimate(Input{Codec: G711, DelayMs: 400}).R; r > 65 {
		t.Errorf("R at 400 ms = %.2f, want under 65", r)
	}
	if v := Id(-3); v != Id(0) {
		t.Errorf("Id(-3) = %v, want Id(0) = %v", v, Id(0))
	}
}

// Ie,eff with G.113 Appendix I's values for G.711 (Ie 0; Bpl 25.1 with PLC, 4.3 without)
// at several random loss rates: Ie,eff = 95·Ppl/(Ppl + Bpl). The expected figures were worked
// out separately (a few lines of Python with R = 93.206 − Ie,eff and G.107's MOS formula).
func TestIeEffG113(t *testing.T) {
	for _, c := range []struct {
		codec       Codec
		ppl, ieEff  float64
		r, mos, tol float64
	}{
		{G711, 0, 0, 93.21, 4.409, 0.01},
		{G711, 1, 3.6398, 89.57, 4.328, 0.01},
		{G711, 2, 7.0111, 86.20, 4.235, 0.01},
		{G711, 5, 15.7807, 77.43, 3.923, 0.01},
		{G711, 10, 27.0655, 66.14, 3.411, 0.01},
		{G711, 20, 42.1286, 51.08, 2.632, 0.01},
		{G711NoPLC, 1, 17.9245, 75.28, 3.834, 0.01},
		{G711NoPLC, 5, 51.0753, 42.13, 2.17, 0.01},
	} {
		got := IeEff(c.codec.Ie, c.codec.Bpl, c.ppl, 1)
		near(t, c.codec.Name+" Ie,eff at "+ftoa(c.ppl)+"%", got, c.ieEff, 0.001)
		r := Estimate(Input{Codec: c.codec, LossPct: c.ppl})
		near(t, c.codec.Name+" R at "+ftoa(c.ppl)+"%", r.R, c.r, c.tol)
		near(t, c.codec.Name+" MOS at "+ftoa(c.ppl)+"%", r.MOS, c.mos, 0.005)
	}
	// Bursty loss hurts more than random loss at the same rate (G.107 §7.5: Ppl/BurstR).
	if a, b := IeEff(0, 25.1, 5, 1), IeEff(0, 25.1, 5, 2); !(b > a) {
		t.Errorf("Ie,eff at BurstR 2 = %.2f, not above random %.2f", b, a)
	}
	if a, b := IeEff(0, 25.1, 5, 0), IeEff(0, 25.1, 5, 1); a != b {
		t.Errorf("BurstR 0 gives %.3f, want random loss's %.3f", a, b)
	}
	if got := IeEff(0, 25.1, 250, 1); got != IeEff(0, 25.1, 100, 1) {
		t.Errorf("loss above 100%% not clamped: %.3f", got)
	}
}

// Wideband codecs: G.107.1's Ro,WB 129 less Ie,WB, divided by 1.29. With no loss and no
// delay G.722 (Ie,WB 13) is 100 − 0.15 − 13/1.29 = 89.77.
func TestWidebandMapping(t *testing.T) {
	near(t, "G.722 R", Estimate(Input{Codec: G722}).R, 100-Id(0)-13/1.29, 1e-9)
	near(t, "opus R", Estimate(Input{Codec: Opus}).R, 100-Id(0)-10/1.29, 1e-9)
	if g, o := Estimate(Input{Codec: G722, LossPct: 2}).MOS, Estimate(Input{Codec: Opus, LossPct: 2}).MOS; !(o > g) {
		t.Errorf("opus at 2%% loss (%.3f) not above G.722 (%.3f)", o, g)
	}
	for name, c := range map[string]Codec{"PCMU": G711, "pcma": G711, "G722": G722, "opus": Opus, "OPUS": Opus, "GSM": G711} {
		if got := CodecFor(name); got != c {
			t.Errorf("CodecFor(%q) = %+v, want %+v", name, got, c)
		}
	}
}

// MOS never rises with more loss or more delay, for every codec.
func TestMonotonic(t *testing.T) {
	for _, c := range []Codec{G711, G711NoPLC, G722, Opus} {
		prev := math.Inf(1)
		for loss := 0.0; loss <= 100; loss += 0.25 {
			m := Estimate(Input{Codec: c, LossPct: loss, DelayMs: 40}).R
			if m > prev {
				t.Fatalf("%s: R rises with loss at %.2f%%: %.4f > %.4f", c.Name, loss, m, prev)
			}
			prev = m
		}
		prev = math.Inf(1)
		for d := 0.0; d <= 2000; d += 1 {
			m := Estimate(Input{Codec: c, LossPct: 1, DelayMs: d}).R
			if m > prev+1e-9 {
				t.Fatalf("%s: R rises with delay at %.0f ms: %.4f > %.4f", c.Name, d, m, prev)
			}
			prev = m
		}
	}
}

func TestOneWayDelay(t *testing.T) {
	ms := time.Millisecond
	if got := OneWayDelay(100*ms, 60*ms, 5*ms, 20*ms, G711); got != 50*ms+60*ms+20*ms {
		t.Errorf("delay = %v, want 130ms", got)
	}
	// Playout unknown: twice the jitter, at least a frame.
	if got := OneWayDelay(0, 0, 15*ms, 0, G711); got != 30*ms+20*ms {
		t.Errorf("delay = %v, want 50ms", got)
	}
	if got := OneWayDelay(-ms, 0, 0, 20*ms, Opus); got != 20*ms+20*ms+6500*time.Microsecond {
		t.Errorf("delay = %v, want 46.5ms", got)
	}
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
