package media

import (
	"fmt"
	"math"
	"testing"
)

const (
	testFrame = 160 // 20 ms at 8 kHz
	testAmp   = 8000.0
)

var testFreqs = []float64{200, 300, 440, 500, 700, 1000}

// sineAt returns n samples of a sine starting at sample index start.
func sineAt(freq float64, start, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(testAmp * math.Sin(2*math.Pi*freq*float64(start+i)/8000+0.7)))
	}
	return out
}

// feedSine gives the PLC frames of a sine and returns the next sample index.
func feedSine(p *PLC, freq float64, frames int) int {
	for f := 0; f < frames; f++ {
		p.Good(sineAt(freq, f*testFrame, testFrame))
	}
	return frames * testFrame
}

func correlation(a, b []int16) float64 {
	var ab, aa, bb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

func energy(s []int16) float64 {
	e := 0.0
	for _, v := range s {
		e += float64(v) * float64(v)
	}
	return e
}

// maxStep is the largest sample-to-sample jump in s.
func maxStep(s []int16) float64 {
	m := 0.0
	for i := 1; i < len(s); i++ {
		m = max(m, math.Abs(float64(s[i])-float64(s[i-1])))
	}
	return m
}

// ownStep is the largest jump of the test sine itself.
func ownStep(freq float64) float64 {
	return 2 * testAmp * math.Sin(math.Pi*freq/8000)
}

func TestPLCContinuesSine(t *testing.T) {
	for _, f := range testFreqs {
		t.Run(fmt.Sprintf("%gHz", f), func(t *testing.T) {
			p := NewPLC()
			next := feedSine(p, f, 10)
			out := make([]int16, testFrame)
			p.Conceal(out)
			truth := sineAt(f, next, testFrame)
			c10 := correlation(out[:80], truth[:80])
			c20 := correlation(out, truth)
			t.Logf("pitch %d samples; correlation first 10 ms %.4f, 20 ms %.4f", p.pitch, c10, c20)
			if c10 < 0.95 {
				t.Errorf("first 10 ms correlate %.3f with the true continuation, want >= 0.95", c10)
			}
			if c20 < 0.9 {
				t.Errorf("first 20 ms correlate %.3f with the true continuation, want >= 0.9", c20)
			}
			// No attenuation in the first 10 ms: the energy matches the signal's.
			if r := energy(out[:80]) / energy(truth[:80]); r < 0.8 || r > 1.2 {
				t.Errorf("first 10 ms energy ratio %.2f, want about 1", r)
			}
		})
	}
}

func TestPLCFindsPitchOfPeriodicSignal(t *testing.T) {
	// A harmonic-rich 100 Hz signal (period 80) must be repeated at 80 samples, not at a
	// spurious shorter lag.
	p := NewPLC()
	frame := make([]int16, testFrame)
	for f := 0; f < 5; f++ {
		for i := range frame {
			n := float64(f*testFrame + i)
			v := 0.0
			for h := 1.0; h <= 5; h++ {
				v += testAmp / (h * 2) * math.Sin(2*math.Pi*100*h*n/8000+h)
			}
			frame[i] = int16(v)
		}
		p.Good(frame)
	}
	p.Conceal(frame)
	if p.pitch != 80 {
		t.Fatalf("pitch %d, want 80", p.pitch)
	}
}

func TestPLCFadesToComfortNoiseBy60ms(t *testing.T) {
	for _, f := range testFreqs {
		p := NewPLC()
		feedSine(p, f, 150) // 3 s: the background estimate climbs slowly by design
		out := make([]int16, 5*testFrame)
		for i := 0; i < 5; i++ {
			p.Conceal(out[i*testFrame : (i+1)*testFrame])
		}
		// Energy per 10 ms block: full in the first, then strictly falling until 60 ms.
		var blocks [10]float64
		for b := range blocks {
			blocks[b] = energy(out[b*80 : (b+1)*80])
		}
		for b := 1; b < 6; b++ {
			if blocks[b] >= blocks[b-1] {
				t.Errorf("%g Hz: block %d energy %.3g not below block %d's %.3g", f, b, blocks[b], b-1, blocks[b-1])
			}
		}
		// From 60 ms on only comfort noise is left: a loud tone's background is capped at
		// -50 dBov, and the tone itself is gone (it no longer correlates with the signal).
		tail := out[480:]
		rms := math.Sqrt(energy(tail) / float64(len(tail)))
		if rms < cnMaxRMS*0.7 || rms > cnMaxRMS*1.3 {
			t.Errorf("%g Hz: after 60 ms RMS %.1f, want comfort noise at the %.1f cap", f, rms, cnMaxRMS)
		}
		if c := math.Abs(correlation(tail, sineAt(f, 150*testFrame+480, len(tail)))); c > 0.2 {
			t.Errorf("%g Hz: after 60 ms the output still correlates %.2f with the tone", f, c)
		}
		if got := p.Concealed(); got != 5 {
			t.Errorf("Concealed() = %d, want 5", got)
		}
	}
}

// TestPLCComfortNoiseAtTheBackgroundLevel: a talker with a quiet background (noise at RMS 40
// between bursts of a loud tone) loses 200 ms: after the fade, the gap is filled with noise at
// about the background's level, not silence and not the talker's level.
func TestPLCComfortNoiseAtTheBackgroundLevel(t *testing.T) {
	p := NewPLC()
	state := uint32(7)
	quiet := func() []int16 {
		f := make([]int16, testFrame)
		for i := range f {
			state ^= state << 13
			state ^= state >> 17
			state ^= state << 5
			f[i] = int16((float64(state)/(1<<31) - 1) * math.Sqrt(3) * 40)
		}
		return f
	}
	for i := 0; i < 5; i++ { // 1 s of speech bursts and pauses
		for j := 0; j < 5; j++ {
			p.Good(sineAt(300, j*testFrame, testFrame))
		}
		for j := 0; j < 5; j++ {
			p.Good(quiet())
		}
	}
	p.Good(sineAt(300, 0, testFrame)) // the loss starts while talking
	out := make([]int16, 10*testFrame)
	for i := 0; i < 10; i++ {
		p.Conceal(out[i*testFrame : (i+1)*testFrame])
	}
	tail := out[480:]
	rms := math.Sqrt(energy(tail) / float64(len(tail)))
	if rms < 25 || rms > 60 {
		t.Errorf("comfort noise RMS %.1f after 60 ms, want about the background's 40", rms)
	}
}

// TestPLCSeamsAreSmooth checks both seams of a loss: good->concealed and concealed->good.
// The largest sample-to-sample jump around each seam must stay close to the sine's own.
func TestPLCSeamsAreSmooth(t *testing.T) {
	for _, f := range testFreqs {
		for _, lostFrames := range []int{1, 2, 3, 5, 10} {
			t.Run(fmt.Sprintf("%gHz/%dlost", f, lostFrames), func(t *testing.T) {
				p := NewPLC()
				next := feedSine(p, f, 10)
				stream := sineAt(f, next-testFrame, testFrame) // last good frame as played
				for i := 0; i < lostFrames; i++ {
					out := make([]int16, testFrame)
					p.Conceal(out)
					stream = append(stream, out...)
				}
				resume := next + lostFrames*testFrame
				for i := 0; i < 2; i++ {
					good := sineAt(f, resume+i*testFrame, testFrame)
					p.Good(good)
					stream = append(stream, good...)
				}
				limit := 1.25 * ownStep(f)
				startSeam := stream[testFrame-4 : testFrame+40]
				endAt := testFrame * (1 + lostFrames)
				endSeam := stream[endAt-4 : endAt+testFrame]
				if s := maxStep(startSeam); s > limit {
					t.Errorf("jump %.0f at the start of the loss, signal's own %.0f", s, ownStep(f))
				}
				if s := maxStep(endSeam); s > limit {
					t.Errorf("jump %.0f at the end of the loss, signal's own %.0f", s, ownStep(f))
				}
				// Without the cross-fade, resuming after a long loss would jump straight
				// from silence to the signal; make sure the test would have seen that.
				if lostFrames >= 3 && math.Abs(float64(stream[endAt])) > limit {
					t.Errorf("first good sample %d not faded in", stream[endAt])
				}
			})
		}
	}
}

func TestPLCGoodFramesUntouchedWithoutLoss(t *testing.T) {
	p := NewPLC()
	for i := 0; i < 5; i++ {
		frame := sineAt(440, i*testFrame, testFrame)
		want := append([]int16(nil), frame...)
		p.Good(frame)
		for j := range frame {
			if frame[j] != want[j] {
				t.Fatalf("frame %d sample %d changed: %d -> %d", i, j, want[j], frame[j])
			}
		}
	}
}

func TestPLCSilenceGivesSilence(t *testing.T) {
	p := NewPLC()
	out := make([]int16, testFrame)
	for i := 0; i < 3; i++ {
		p.Conceal(out) // nothing heard yet
		for _, v := range out {
			if v != 0 {
				t.Fatalf("concealment of an empty history = %d, want 0", v)
			}
		}
	}
	p.Good(make([]int16, testFrame))
	p.Good(make([]int16, testFrame))
	p.Good(make([]int16, testFrame))
	p.Conceal(out)
	for _, v := range out {
		if v != 0 {
			t.Fatalf("concealment of silence = %d, want 0", v)
		}
	}
}

func TestPLCOddFrameSizes(t *testing.T) {
	// The media session uses 20 ms frames, but nothing in the PLC should depend on it.
	p := NewPLC()
	sig := sineAt(300, 0, 2000)
	p.Good(sig[:37])
	p.Good(sig[37:500])
	out := make([]int16, 33)
	for i := 0; i < 20; i++ {
		p.Conceal(out)
	}
	p.Good(sig[500:501])
	p.Good(sig[501:1000])
	p.Conceal(make([]int16, 1000))
	p.Good(nil)
	p.Conceal(nil)
}

func TestPLCReset(t *testing.T) {
	p := NewPLC()
	feedSine(p, 440, 5)
	p.Reset()
	out := make([]int16, testFrame)
	p.Conceal(out)
	if energy(out) != 0 {
		t.Fatal("Reset kept the history")
	}
}

func TestPLCZeroAllocs(t *testing.T) {
	p := NewPLC()
	good := sineAt(440, 0, testFrame)
	out := make([]int16, testFrame)
	allocs := testing.AllocsPerRun(200, func() {
		p.Good(good)
		p.Conceal(out)
		p.Conceal(out)
		p.Good(good)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per loss cycle, want 0", allocs)
	}
}

// TestPLCStartSeamOnGrowingSignal uses a sine whose amplitude grows 50 % every 5 ms and
// loses the frame that starts on a crest: one period ago is a poor match for the last
// sample (two thirds of it), so the repetition must be offset onto it to start without
// a step.
func TestPLCStartSeamOnGrowingSignal(t *testing.T) {
	for _, f := range []float64{200, 250, 400} {
		grow := math.Pow(1.5, 1.0/40) // per sample
		sig := make([]int16, 3*testFrame)
		for n := range sig {
			a := 100 * math.Pow(grow, float64(n))
			sig[n] = int16(a * math.Cos(2*math.Pi*f*float64(n)/8000))
		}
		p := NewPLC()
		for i := 0; i < len(sig); i += testFrame {
			p.Good(sig[i : i+testFrame])
		}
		out := make([]int16, testFrame)
		p.Conceal(out)
		seam := append([]int16{sig[len(sig)-1]}, out[:40]...)
		last := 100 * math.Pow(grow, float64(len(sig)))
		own := 2 * last * math.Sin(math.Pi*f/8000)
		t.Logf("%g Hz: pitch %d, largest jump %.0f, signal's own %.0f", f, p.pitch, maxStep(seam), own)
		if s := maxStep(seam); s > 1.25*own {
			t.Errorf("%g Hz: jump %.0f where the loss starts, signal's own %.0f", f, s, own)
		}
	}
}
