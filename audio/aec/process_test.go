package aec

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio"
)

// fit returns the gain g that best maps ref onto x, at the lag (0 to maxLag samples) where they
// match best, and how far x is from g·ref there (in dB below it).
func fit(x, ref []float64, maxLag int) (gainDB, snrDB float64, lag int) {
	best := -2.0
	for l := 0; l <= maxLag; l++ {
		var xr, xx, rr float64
		for i := l; i < len(x); i++ {
			xr += x[i] * ref[i-l]
			xx += x[i] * x[i]
			rr += ref[i-l] * ref[i-l]
		}
		if c := xr / math.Sqrt(xx*rr); c > best {
			best, lag = c, l
		}
	}
	x, ref = x[lag:], ref[:len(ref)-lag]
	var xr, rr float64
	for i := range x {
		xr += x[i] * ref[i]
		rr += ref[i] * ref[i]
	}
	g := xr / rr
	var sig, res float64
	for i := range x {
		sig += g * ref[i] * g * ref[i]
		res += (x[i] - g*ref[i]) * (x[i] - g*ref[i])
	}
	return db(math.Abs(g)), 10 * math.Log10(sig/res), lag
}

// frameLevels is each 20 ms frame's RMS in dB.
func frameLevels(x []float64, n int) []float64 {
	var l []float64
	for i := 0; i+n <= len(x); i += n {
		l = append(l, db(rmsOf(x[i:i+n])+1e-9))
	}
	return l
}

// TestNoFarEndPassesNearEnd: with the far end silent, a talking near end comes through the
// whole chain but AGC (which changes levels on purpose) undamaged: while it talks (frames
// within 10 dB of its loudest) its level stays within 3 dB, and its loudness contour (frames
// within 25 dB) follows the input's. (A sample-by-sample comparison would not do: the denoiser's spectral gains
// change the waveform without changing how it sounds.)
func TestNoFarEndPassesNearEnd(t *testing.T) {
	needProcessor(t)
	for _, rate := range []int{8000, 16000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			sc := scenario{rate: rate, seconds: 6, farDBFS: math.Inf(-1), delay: 0.04, gainDB: -6,
				toneDBFS: -24, nearSpeech: true, noiseDBFS: math.Inf(-1), seed: 3, opts: Defaults()}
			sc.opts.AGC = false
			r := sc.run(t)
			n := rate / 50
			in := frameLevels(tail(r.near, rate, 1), n)
			out := frameLevels(tail(r.out, rate, 1)[n:], n) // the preprocessor delays by a frame
			loudest := slices.Max(in)
			var diff, cnt float64
			var ci, co []float64 // frames with voice in them: their contours
			for i := range out {
				if in[i] > loudest-10 {
					diff += out[i] - in[i]
					cnt++
				}
				if in[i] > loudest-25 {
					ci, co = append(ci, in[i]), append(co, out[i])
				}
			}
			diff /= cnt
			corr := correlation(ci, co)
			t.Logf("%d Hz: talking frames %+.1f dB, loudness contour correlation %.3f", rate, diff, corr)
			if math.Abs(diff) > 3 || corr < 0.9 {
				t.Errorf("near end damaged: level %+.1f dB (want within 3), contour correlation %.3f (want >= 0.9)", diff, corr)
			}
		})
	}
}

func correlation(a, b []float64) float64 {
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var ab, aa, bb float64
	for i := range a {
		ab += (a[i] - ma) * (b[i] - mb)
		aa += (a[i] - ma) * (a[i] - ma)
		bb += (b[i] - mb) * (b[i] - mb)
	}
	return ab / math.Sqrt(aa*bb)
}

// TestDenoise: stationary noise alone at the microphone comes out at least 10 dB lower.
func TestDenoise(t *testing.T) {
	needProcessor(t)
	sc := scenario{rate: 16000, seconds: 6, farDBFS: math.Inf(-1), delay: 0.04, toneDBFS: math.Inf(-1),
		noiseDBFS: -40, seed: 4, opts: Defaults()}
	sc.opts.AGC = false
	r := sc.run(t)
	down := db(rmsOf(tail(r.noise, 16000, 2)) / rmsOf(tail(r.out, 16000, 2)))
	t.Logf("stationary noise at -40 dBFS: %.1f dB lower", down)
	if down < 10 {
		t.Errorf("noise %.1f dB lower, want >= 10", down)
	}
}

// TestAGC: a quiet talker (-45 dBFS) comes out at least 10 dB louder after a few seconds; a
// -30 and a -20 dBFS one come out at the same level (within 3 dB), unclipped.
func TestAGC(t *testing.T) {
	needProcessor(t)
	out := map[float64]float64{}
	for _, level := range []float64{-45, -30, -20} {
		sc := scenario{rate: 16000, seconds: 10, farDBFS: math.Inf(-1), delay: 0.04, toneDBFS: level,
			nearSpeech: true, noiseDBFS: math.Inf(-1), seed: 5, opts: Defaults()}
		r := sc.run(t)
		o := tail(r.out, 16000, 5)
		out[level] = db(rmsOf(o) / 32768)
		peak := 0.0
		for _, v := range o {
			peak = max(peak, math.Abs(v))
		}
		t.Logf("talker at %.0f dBFS comes out at %.1f dBFS, peak %.0f", level, out[level], peak)
		if peak >= 32767 {
			t.Errorf("talker at %.0f dBFS clipped", level)
		}
	}
	if up := out[-45] + 45; up < 10 {
		t.Errorf("quiet talker raised %.1f dB, want >= 10", up)
	}
	if d := out[-20] - out[-30]; math.Abs(d) > 3 {
		t.Errorf("-20 and -30 dBFS talkers differ by %.1f dB at the output, want within 3", d)
	}
}

// TestNoAllocsPerFrame: a played frame and a captured frame allocate nothing, at each rate.
func TestNoAllocsPerFrame(t *testing.T) {
	needProcessor(t)
	for _, rate := range []int{8000, 16000, 48000} {
		src, snk := &rateSimSource{simSource{next: make([]int16, rate/50)}}, &rateSimSink{simSink{last: make([]int16, 0, rate/50)}}
		s, k, _, err := Wrap(src, snk, Defaults())
		if err != nil {
			t.Fatal(err)
		}
		s.(audio.RateSetter).SetRate(rate)
		k.(audio.RateSetter).SetRate(rate)
		frame := make([]int16, rate/50)
		for i := range src.next {
			src.next[i] = int16(1000 * math.Sin(float64(i)))
		}
		allocs := testing.AllocsPerRun(200, func() {
			k.Write(src.next)
			s.Read(frame)
		})
		if allocs != 0 {
			t.Errorf("%d Hz: %.1f allocations per frame, want 0", rate, allocs)
		}
		s.Close()
		k.Close()
	}
}

// TestRateChange: the canceller works only while both ends run at the same rate, and is
// rebuilt for the new one.
func TestRateChange(t *testing.T) {
	needProcessor(t)
	src, snk := &rateSimSource{simSource{next: make([]int16, 320)}}, &rateSimSink{}
	s, k, c, err := Wrap(src, snk, Defaults())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer k.Close()
	if err := s.(audio.RateSetter).SetRate(16000); err != nil || src.rate != 16000 {
		t.Fatalf("SetRate: %v, device at %d", err, src.rate)
	}
	f := make([]int16, 320)
	s.Read(f)
	if st := c.Stats(); st.Rate != 0 || st.Passed != 1 {
		t.Errorf("rates differ: stats %+v, want the frame passed unprocessed", st)
	}
	k.(audio.RateSetter).SetRate(16000)
	k.Write(f)
	s.Read(f)
	if st := c.Stats(); st.Rate != 16000 || st.Frames != 1 {
		t.Errorf("both at 16 kHz: stats %+v, want one frame processed at 16000", st)
	}
	if err := s.(audio.RateSetter).SetRate(11025); err == nil {
		t.Error("SetRate(11025) succeeded")
	}
}

type trimSimSink struct {
	rateSimSink
	trimmed int
}

func (k *trimSimSink) TrimQueued(n int) int { k.trimmed += n; return n }

type aheadSimSource struct{ simSource }

func (s *aheadSimSource) Ahead(time.Time) time.Duration { return 7 * time.Millisecond }

// TestWrapperMethods: a wrapper offers exactly the optional methods of the device under it,
// and forwards them.
func TestWrapperMethods(t *testing.T) {
	needProcessor(t)
	s, k, _, err := Wrap(&aheadSimSource{}, &trimSimSink{}, Defaults())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(audio.RateSetter); ok {
		t.Error("source wrapper is a RateSetter over a device that is not")
	}
	if a, ok := s.(sourceAhead); !ok || a.Ahead(time.Now()) != 7*time.Millisecond {
		t.Error("source wrapper does not forward Ahead")
	}
	if _, ok := k.(audio.RateSetter); !ok {
		t.Error("sink wrapper hides the device's SetRate")
	}
	if q, ok := k.(queueTrimmer); !ok || q.TrimQueued(80) != 80 {
		t.Error("sink wrapper does not forward TrimQueued")
	}
	if !Wrapped(s) || !Wrapped(k) || Wrapped(&simSource{}) {
		t.Error("Wrapped is wrong")
	}
	s2, k2, _, _ := Wrap(&simSource{}, &simSink{}, Defaults())
	if _, ok := s2.(sourceAhead); ok {
		t.Error("plain source wrapper claims Ahead")
	}
	if _, ok := k2.(queueTrimmer); ok {
		t.Error("plain sink wrapper claims TrimQueued")
	}
}

// TestBadOptions and the build without speexdsp fail clearly.
func TestBadOptions(t *testing.T) {
	_, _, _, err := Wrap(&simSource{}, &simSink{}, Options{Tail: 5 * time.Second})
	if !Available {
		if !errors.Is(err, ErrNotBuilt) || !errors.Is(err, audio.ErrUnavailable) {
			t.Errorf("Wrap without speexdsp: %v, want ErrNotBuilt", err)
		}
		return
	}
	if err == nil {
		t.Error("a 5 s tail was accepted")
	}
}
