package codec

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dialtone/dialtone/codec/internal/spandsp"
)

// g722Signals are the inputs the bit-exactness tests run through both codecs: tones in each
// band (6 kHz only the upper band carries), a sweep across the whole band, white noise,
// silence, full-scale clipping square waves and a step, each a few seconds of 16 kHz audio.
func g722Signals() map[string][]int16 {
	const n = 3 * g722Rate
	gen := func(f func(i int) float64) []int16 {
		s := make([]int16, n)
		for i := range s {
			s[i] = int16(max(min(math.Round(f(i)), 32767), -32768))
		}
		return s
	}
	tone := func(hz, amp float64) []int16 {
		return gen(func(i int) float64 { return amp * math.Sin(2*math.Pi*hz*float64(i)/g722Rate) })
	}
	rng := rand.New(rand.NewPCG(1, 2))
	return map[string][]int16{
		"tone-440":    tone(440, 8000),
		"tone-1k-hot": tone(1000, 30000),
		"tone-3.5k":   tone(3500, 12000),
		"tone-6k":     tone(6000, 10000),
		"tone-7.5k":   tone(7500, 16000),
		"sweep": gen(func(i int) float64 {
			t := float64(i) / g722Rate
			return 12000 * math.Sin(2*math.Pi*(50*t+8000/6*t*t/2))
		}),
		"noise":      gen(func(int) float64 { return rng.NormFloat64() * 6000 }),
		"noise-loud": gen(func(int) float64 { return rng.Float64()*65535 - 32768 }),
		"silence":    make([]int16, n),
		"clipping": gen(func(i int) float64 {
			if (i/7)%2 == 0 {
				return 32767
			}
			return -32768
		}),
		"clipped-tone": gen(func(i int) float64 { return 3 * 32767 * math.Sin(2*math.Pi*300*float64(i)/g722Rate) }),
		"step":         gen(func(i int) float64 { return float64(int(i/4000%2) * 30000) }),
	}
}

func TestG722EncodeMatchesSpandsp(t *testing.T) {
	if !spandsp.Available {
		t.Skip("spandsp peer not built in (needs cgo and libspandsp-dev)")
	}
	for name, pcm := range g722Signals() {
		t.Run(name, func(t *testing.T) {
			peer, err := spandsp.NewEncoder()
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			want := make([]byte, len(pcm)/2)
			if n := peer.Encode(want, pcm); n != len(want) {
				t.Fatalf("spandsp encoded %d octets, want %d", n, len(want))
			}
			got := make([]byte, len(pcm)/2)
			enc := G722.NewEncoder()
			for off := 0; off < len(pcm); off += g722FrameSamples {
				n, err := enc.Encode(got[off/2:], pcm[off:min(off+g722FrameSamples, len(pcm))])
				if err != nil || n != min(g722FrameOctets, (len(pcm)-off)/2) {
					t.Fatalf("Encode at %d = %d, %v", off, n, err)
				}
			}
			// spandsp does not limit the analysis filter's output to 15 bits as the ITU-T
			// reference does, so from the first pair where that limit acts the two encoders
			// part ways; up to there they must agree octet for octet.
			limited := firstLimitedPair(pcm)
			for i := range want {
				if got[i] == want[i] {
					continue
				}
				if limited >= 0 && i >= limited {
					t.Logf("encoders part at octet %d, after the 15-bit limit first acted at pair %d", i, limited)
					return
				}
				t.Fatalf("octet %d = %#02x, spandsp %#02x (of %d; limit first acts at %d)", i, got[i], want[i], len(want), limited)
			}
		})
	}
}

// firstLimitedPair is the index of the first pair of pcm whose band signals, straight out of
// the analysis filter, do not fit 15 bits (so G.722's LIMIT changes them), or -1.
func firstLimitedPair(pcm []int16) int {
	var h [24]int32
	for i := 0; i+1 < len(pcm); i += 2 {
		copy(h[:], h[2:])
		h[22], h[23] = int32(pcm[i]), int32(pcm[i+1])
		var xa, xb int32
		for k := 0; k < 24; k += 2 {
			xb += qmfCoeffs[k] * h[k]
			xa += qmfCoeffs[k+1] * h[k+1]
		}
		for _, x := range []int32{(xa + xb) >> 14, (xa - xb) >> 14} {
			if x != limit15(x) {
				return i / 2
			}
		}
	}
	return -1
}

func TestG722DecodeMatchesSpandsp(t *testing.T) {
	if !spandsp.Available {
		t.Skip("spandsp peer not built in (needs cgo and libspandsp-dev)")
	}
	payloads := map[string][]byte{}
	for name, pcm := range g722Signals() {
		enc := NewG722Encoder()
		p := make([]byte, len(pcm)/2)
		if _, err := enc.Encode(p, pcm); err != nil {
			t.Fatal(err)
		}
		payloads[name] = p
	}
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 3*g722Rate/2)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	payloads["random-octets"] = random
	for _, c := range []byte{0x00, 0x3F, 0x40, 0xC0, 0xFF, 0x80, 0x1F} {
		payloads["constant-"+string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])] = fill(make([]byte, 8000), c)
	}
	for name, payload := range payloads {
		t.Run(name, func(t *testing.T) {
			peer, err := spandsp.NewDecoder()
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			want := make([]int16, 2*len(payload))
			if n := peer.Decode(want, payload); n != len(want) {
				t.Fatalf("spandsp decoded %d samples, want %d", n, len(want))
			}
			got := make([]int16, 2*len(payload))
			dec := G722.NewDecoder()
			for off := 0; off < len(payload); off += g722FrameOctets {
				n, err := dec.Decode(got[2*off:], payload[off:min(off+g722FrameOctets, len(payload))])
				if err != nil || n != 2*min(g722FrameOctets, len(payload)-off) {
					t.Fatalf("Decode at %d = %d, %v", off, n, err)
				}
			}
			bad, wrapped := sameOrWrapped(payload, got, want)
			if bad >= 0 {
				t.Fatalf("sample %d = %d, spandsp %d (of %d)", bad, got[bad], want[bad], len(want))
			}
			if wrapped > 0 {
				t.Logf("%d of %d samples saturated here and wrapped in spandsp", wrapped, len(want))
			}
		})
	}
}

// rawSynthesis decodes payload as G722Decoder does but returns the synthesis filter's output
// before saturation, to tell spandsp's wrap-around from a real difference.
func rawSynthesis(payload []byte) []int32 {
	var low, high band
	low.reset(detLowMin)
	high.reset(detHighMin)
	var h [24]int32
	out := make([]int32, 0, 2*len(payload))
	for _, c := range payload {
		rl, rh := low.decodeLow(int32(c&0x3F)), high.decodeHigh(int32(c>>6))
		copy(h[:], h[2:])
		h[22], h[23] = rl-rh, rl+rh
		var x0, x1 int32
		for i := 0; i < 24; i += 2 {
			x0 += qmfCoeffs[i+1] * h[i]
			x1 += qmfCoeffs[i] * h[i+1]
		}
		out = append(out, x0>>11, x1>>11)
	}
	return out
}

// sameOrWrapped compares our samples with spandsp's: equal, or ours saturated where spandsp
// 0.0.6 truncated the same out-of-range value to 16 bits (it casts where the ITU-T reference
// saturates). It returns the index of the first real difference or -1, and the wrap count.
func sameOrWrapped(payload []byte, got, want []int16) (bad, wrapped int) {
	var raw []int32
	for i := range want {
		if got[i] == want[i] {
			continue
		}
		if raw == nil {
			raw = rawSynthesis(payload)
		}
		if int32(got[i]) == sat16(raw[i]) && want[i] == int16(raw[i]) && raw[i] != sat16(raw[i]) {
			wrapped++
			continue
		}
		return i, wrapped
	}
	return -1, wrapped
}

func fill(b []byte, c byte) []byte {
	for i := range b {
		b[i] = c
	}
	return b
}
