//go:build cgo && !noportaudio

package portaudio

import "math"

// polyphase is the resampler's kernel sampled once for every output phase, used when both
// rates are whole numbers of Hz (every real device and call rate). An output at input
// position base + p/l needs the kernel at p/l + k for whole k: l phases of 2·half taps, so
// each output is a plain dot product instead of 2·half table lookups and interpolations. At
// 8 ↔ 48 kHz there are 6 phases (1 one way): about 4× less CPU than the generic path, which
// matters now that a G.711 call on a sound card resamples to 48 kHz both ways.
type polyphase struct {
	l, m  int       // output positions advance m/l input samples: t = base + phase/l
	taps  int       // 2·half
	coef  []float64 // phase p's taps at coef[p*taps:], for buf[base-half+1 .. base+half]
	base  int       // r.t's whole part, in input samples from r.buf[0]
	phase int       // r.t's fraction, in 1/l
}

// maxPolyCoefs bounds the tables (8 → 44.1 kHz needs 441 phases × 18 taps = 7938).
const maxPolyCoefs = 1 << 16

// newPolyphase returns nil when the rates are not whole numbers or the table would be large.
func newPolyphase(inRate, outRate float64, half int, kernel func(float64) float64) *polyphase {
	if inRate != math.Trunc(inRate) || outRate != math.Trunc(outRate) || inRate < 1 || outRate < 1 || inRate > 1e6 || outRate > 1e6 {
		return nil
	}
	in, out := int(inRate), int(outRate)
	g := gcdInt(in, out)
	p := &polyphase{l: out / g, m: in / g, taps: 2 * half, base: half}
	if p.l*p.taps > maxPolyCoefs {
		return nil
	}
	p.coef = make([]float64, p.l*p.taps)
	for ph := range p.l {
		frac := float64(ph) / float64(p.l)
		for i := range p.taps {
			j := i - half + 1 // tap i reads buf[base+j]
			p.coef[ph*p.taps+i] = kernel(frac - float64(j))
		}
	}
	return p
}

func gcdInt(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// run is process's loop for r's buffered input, with r's kernel as polyphase tables.
func (p *polyphase) run(r *resampler, out []int16) []int16 {
	half := r.half
	for p.base+half < len(r.buf) {
		x := r.buf[p.base-half+1 : p.base+half+1]
		c := p.coef[p.phase*p.taps : (p.phase+1)*p.taps]
		c = c[:len(x)]
		var acc float64
		for i, v := range x {
			acc += v * c[i]
		}
		out = append(out, clamp16(acc))
		p.phase += p.m
		p.base += p.phase / p.l
		p.phase %= p.l
	}
	// Drop input no future output can reach, keeping buf (and base) small.
	if first := p.base - half + 1; first > 0 {
		n := copy(r.buf, r.buf[first:])
		r.buf = r.buf[:n]
		p.base -= first
	}
	return out
}
