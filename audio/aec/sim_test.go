package aec

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dialtone/dialtone/audio"
)

// A simulated sound card: the source returns whatever the test put in next, the sink keeps
// the last frame written. The rate-aware pair also records SetRate.
type simSource struct {
	next []int16
	rate int
}

func (s *simSource) Read(f []int16) error { copy(f, s.next); return nil }
func (s *simSource) Close() error         { return nil }

type simSink struct {
	last []int16
	rate int
}

func (k *simSink) Write(f []int16) error { k.last = append(k.last[:0], f...); return nil }
func (k *simSink) Close() error          { return nil }

type rateSimSource struct{ simSource }

func (s *rateSimSource) SetRate(hz int) error { s.rate = hz; return nil }

type rateSimSink struct{ simSink }

func (k *rateSimSink) SetRate(hz int) error { k.rate = hz; return nil }

// scenario is one run of the echo simulation: the far end's speech-like signal goes to the
// sink; the microphone hears it back through the echo path (delay, attenuation, a short
// reverberant tail), plus the near-end tone and noise.
type scenario struct {
	rate       int
	seconds    float64
	farDBFS    float64 // RMS of the far-end signal; -inf (math.Inf(-1)) for none
	delay      float64 // echo path delay, seconds
	gainDB     float64 // echo path attenuation
	toneHz     float64
	toneDBFS   float64 // RMS of the near-end tone; -inf for none
	toneStart  float64 // seconds of far-end single talk before the near end joins (0: from the start)
	nearSpeech bool    // the near end talks (speech-like noise) instead of the tone
	noiseDBFS  float64 // RMS of white noise at the microphone; -inf for none
	drift      float64 // playback clock runs this much faster than capture (0.001 = 0.1 %)
	lock       bool    // the reference queue resamples by 1+drift from the start (no loop)
	opts       Options
	seed       uint64
}

// result holds the microphone's parts and the processed output, sample by sample.
type result struct {
	echo, near, noise, out []float64
	stats                  Stats
}

func dbfs(db float64) float64 { return 32768 * math.Pow(10, db/20) }

func (sc scenario) run(t testing.TB) result {
	n := sc.rate / 50
	frames := int(sc.seconds * 50)
	total := frames * n
	rng := rand.New(rand.NewPCG(sc.seed, 7))

	// Far end: low-passed noise with a syllabic envelope (about 4 syllables a second and
	// pauses), the way speech loads an echo canceller, at farDBFS RMS.
	far := speechLike(rng, int(float64(total)*(1+sc.drift))+n*4, sc.rate)
	scale(far, dbfs(sc.farDBFS))

	// Echo path: the direct path after delay at gainDB, and 30 ms of decaying reflections
	// starting 5 ms later, 12 dB below it.
	d := int(sc.delay * float64(sc.rate))
	g := math.Pow(10, sc.gainDB/20)
	h := make([]float64, d+int(0.035*float64(sc.rate))+1)
	h[d] = g
	for k := d + int(0.005*float64(sc.rate)); k < len(h); k++ {
		decay := math.Exp(-float64(k-d) / (0.008 * float64(sc.rate)))
		h[k] = g * 0.25 * decay * rng.NormFloat64() * 0.5
	}
	// The speaker plays far at the playback clock: capture sample i hears far at i*(1+drift),
	// band-limited (a Hann-windowed sinc), as a real clock difference sounds.
	played := far[:total+len(h)]
	if sc.drift != 0 {
		played = make([]float64, total)
		for i := range played {
			pos := float64(i) * (1 + sc.drift)
			j0 := int(pos)
			s := 0.0
			for j := j0 - 15; j <= j0+16; j++ {
				if j < 0 || j >= len(far) {
					continue
				}
				x := pos - float64(j)
				w := 0.5 + 0.5*math.Cos(math.Pi*x/16)
				if x == 0 {
					s += far[j]
				} else {
					s += far[j] * w * math.Sin(math.Pi*x) / (math.Pi * x)
				}
			}
			played[i] = s
		}
	}
	echo := make([]float64, total)
	for k, hk := range h {
		if hk == 0 {
			continue
		}
		for i := k; i < total; i++ {
			echo[i] += hk * played[i-k]
		}
	}
	near := make([]float64, total)
	for i := range near {
		near[i] = math.Sin(2 * math.Pi * sc.toneHz * float64(i) / float64(sc.rate))
	}
	if sc.nearSpeech {
		near = speechLike(rand.New(rand.NewPCG(sc.seed, 99)), total, sc.rate)
	}
	scale(near, dbfs(sc.toneDBFS))
	clear(near[:min(total, int(sc.toneStart*float64(sc.rate)))])
	noise := make([]float64, total)
	for i := range noise {
		noise[i] = rng.NormFloat64()
	}
	scale(noise, dbfs(sc.noiseDBFS))

	src, snk := &rateSimSource{}, &rateSimSink{}
	s, k, c, err := Wrap(src, snk, sc.opts)
	if err != nil {
		t.Fatalf("Wrap: %v", err)
	}
	defer s.Close()
	defer k.Close()
	if sc.rate != audio.SampleRate {
		if err := s.(audio.RateSetter).SetRate(sc.rate); err != nil {
			t.Fatal(err)
		}
		if err := k.(audio.RateSetter).SetRate(sc.rate); err != nil {
			t.Fatal(err)
		}
	}
	if sc.lock {
		c.fifo.locked = 1 + sc.drift
	}
	out := make([]float64, total)
	frame := make([]int16, n)
	src.next = make([]int16, n)
	written := 0
	for f := range frames {
		// The sink is written as the (drifting) playback device consumes frames.
		for float64(written*n) <= float64((f+1)*n)*(1+sc.drift) {
			for i := range frame {
				frame[i] = clip(far[written*n+i])
			}
			if err := k.Write(frame); err != nil {
				t.Fatal(err)
			}
			written++
		}
		for i := range src.next {
			j := f*n + i
			src.next[i] = clip(echo[j] + near[j] + noise[j])
		}
		if err := s.Read(frame); err != nil {
			t.Fatal(err)
		}
		for i, v := range frame {
			out[f*n+i] = float64(v)
		}
	}
	return result{echo: echo, near: near, noise: noise, out: out, stats: c.Stats()}
}

// speechLike is noise band-passed to about 300-1000 Hz with a 6 dB/octave slope above, with a
// syllabic envelope (2.5 syllables a second with a pause after each, louder and quieter
// stretches): roughly how speech
// loads an echo canceller.
func speechLike(rng *rand.Rand, n, rate int) []float64 {
	x := make([]float64, n)
	a := math.Exp(-2 * math.Pi * 1000 / float64(rate))
	b := math.Exp(-2 * math.Pi * 300 / float64(rate))
	lp, prev, hp := 0.0, 0.0, 0.0
	for i := range x {
		lp = a*lp + (1-a)*rng.NormFloat64()
		hp = b * (hp + lp - prev)
		prev = lp
		tt := float64(i) / float64(rate)
		env := max(0, math.Sin(2*math.Pi*2.5*tt)) * (0.6 + 0.4*math.Sin(2*math.Pi*0.3*tt))
		x[i] = hp * env
	}
	return x
}

func scale(x []float64, rms float64) {
	if math.IsInf(rms, 0) || rms == 0 {
		clear(x)
		return
	}
	r := rmsOf(x)
	if r == 0 {
		return
	}
	for i := range x {
		x[i] *= rms / r
	}
}

func rmsOf(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := 0.0
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s / float64(len(x)))
}

func clip(v float64) int16 {
	return int16(max(-32768, min(32767, math.Round(v))))
}

func db(ratio float64) float64 { return 20 * math.Log10(ratio) }

// splitTone separates x into the tone at hz (fitted in blocks of 100 ms, so a slowly varying
// gain is followed) and the rest.
func splitTone(x []float64, rate int, hz float64) (tone, rest []float64) {
	tone = make([]float64, len(x))
	rest = make([]float64, len(x))
	blk := rate / 10
	for b := 0; b+blk <= len(x); b += blk {
		var ss, sc, cc, xs, xc float64
		for i := b; i < b+blk; i++ {
			w := 2 * math.Pi * hz * float64(i) / float64(rate)
			s, c := math.Sin(w), math.Cos(w)
			ss, sc, cc = ss+s*s, sc+s*c, cc+c*c
			xs, xc = xs+x[i]*s, xc+x[i]*c
		}
		det := ss*cc - sc*sc
		a := (xs*cc - xc*sc) / det
		bb := (xc*ss - xs*sc) / det
		for i := b; i < b+blk; i++ {
			w := 2 * math.Pi * hz * float64(i) / float64(rate)
			tone[i] = a*math.Sin(w) + bb*math.Cos(w)
			rest[i] = x[i] - tone[i]
		}
	}
	return tone, rest
}

// tail returns the part of x from second from on.
func tail(x []float64, rate int, from float64) []float64 {
	return x[int(from*float64(rate)):]
}
