package codec

import (
	"math"
	"testing"

	"github.com/zaf/g711"
)

// allInt16 is every possible input sample, in ascending order.
func allInt16() []int16 {
	pcm := make([]int16, 1<<16)
	for i := range pcm {
		pcm[i] = int16(math.MinInt16 + i)
	}
	return pcm
}

// g711Codecs pairs our codecs with zaf/g711 as the oracle. zaf/g711 implements the same
// ITU-T G.191 reference algorithm (ulaw_compress/alaw_compress and the expanders), so the
// expected number of differing inputs is zero: there are no threshold ties to excuse.
var g711Codecs = []struct {
	c      G711
	enc    func(int16) uint8
	dec    func(uint8) int16
	step   func(code byte) int // quantisation step, on the 16-bit scale, of the code's segment
	silent byte                // code for 0
	clip   int16               // decoded magnitude of the loudest code
}{
	{PCMU, g711.EncodeUlawFrame, g711.DecodeUlawFrame, func(c byte) int { return 8 << (^c >> 4 & 7) }, 0xFF, 32124},
	{PCMA, g711.EncodeAlawFrame, g711.DecodeAlawFrame, func(c byte) int { return 16 << max(int((c^0x55)>>4&7)-1, 0) }, 0xD5, 32256},
}

func TestEncodeMatchesReferenceForEveryInput(t *testing.T) {
	pcm := allInt16()
	for _, tc := range g711Codecs {
		got := make([]byte, tc.c.EncodedLen(len(pcm)))
		if n := tc.c.EncodeTo(got, pcm); n != len(pcm) {
			t.Fatalf("%s: EncodeTo wrote %d, want %d", tc.c.Name(), n, len(pcm))
		}
		diffs := 0
		for i, x := range pcm {
			if want := tc.enc(x); got[i] != want {
				if diffs++; diffs <= 5 {
					t.Errorf("%s: encode(%d) = %#02x, zaf/g711 says %#02x", tc.c.Name(), x, got[i], want)
				}
			}
		}
		if diffs > 0 {
			t.Errorf("%s: %d of 65536 inputs differ from zaf/g711", tc.c.Name(), diffs)
		}
	}
}

func TestDecodeMatchesReferenceForEveryCode(t *testing.T) {
	for _, tc := range g711Codecs {
		payload := make([]byte, 256)
		for i := range payload {
			payload[i] = byte(i)
		}
		got := make([]int16, 256)
		if n := tc.c.DecodeTo(got, payload); n != 256 {
			t.Fatalf("%s: DecodeTo returned %d", tc.c.Name(), n)
		}
		for i, v := range got {
			if want := tc.dec(byte(i)); v != want {
				t.Errorf("%s: decode(%#02x) = %d, zaf/g711 says %d", tc.c.Name(), i, v, want)
			}
		}
	}
}

func TestKnownVectors(t *testing.T) {
	enc := []struct {
		c    G711
		in   int16
		want byte
	}{
		{PCMU, 0, 0xFF}, {PCMU, -1, 0x7F}, {PCMU, 32767, 0x80}, {PCMU, -32768, 0x00},
		{PCMU, 8, 0xFE}, {PCMU, -9, 0x7E}, {PCMU, 1000, 0xCE},
		{PCMA, 0, 0xD5}, {PCMA, -1, 0x55}, {PCMA, 32767, 0xAA}, {PCMA, -32768, 0x2A},
		{PCMA, 16, 0xD4}, {PCMA, 1000, 0xFA},
	}
	for _, v := range enc {
		var out [1]byte
		v.c.EncodeTo(out[:], []int16{v.in})
		if out[0] != v.want {
			t.Errorf("%s encode(%d) = %#02x, want %#02x", v.c.Name(), v.in, out[0], v.want)
		}
	}
	dec := []struct {
		c    G711
		in   byte
		want int16
	}{
		{PCMU, 0xFF, 0}, {PCMU, 0x7F, 0}, {PCMU, 0x80, 32124}, {PCMU, 0x00, -32124}, {PCMU, 0xFE, 8},
		{PCMA, 0xD5, 8}, {PCMA, 0x55, -8}, {PCMA, 0xAA, 32256}, {PCMA, 0x2A, -32256}, {PCMA, 0xD4, 24},
	}
	for _, v := range dec {
		var out [1]int16
		v.c.DecodeTo(out[:], []byte{v.in})
		if out[0] != v.want {
			t.Errorf("%s decode(%#02x) = %d, want %d", v.c.Name(), v.in, out[0], v.want)
		}
	}
}

// TestRoundTripError checks that decode(encode(x)) lands within half a quantisation step of x
// (the decoder outputs the middle of the cell) and never moves backwards as x grows. The only
// exception is µ-law's clipping range above ±32636, the last decision level, where every
// input saturates to ±32124.
func TestRoundTripError(t *testing.T) {
	pcm := allInt16()
	for _, tc := range g711Codecs {
		codes := make([]byte, len(pcm))
		tc.c.EncodeTo(codes, pcm)
		out := make([]int16, len(pcm))
		tc.c.DecodeTo(out, codes)
		worst := 0
		for i, x := range pcm {
			y := out[i]
			err := int(x) - int(y)
			half := tc.step(codes[i]) / 2
			if abs(err) > half {
				saturated := (y == tc.clip && int(x) >= int(y)+half) || (y == -tc.clip && int(x) <= -int(y)-half-1)
				if !saturated {
					t.Errorf("%s: %d -> %#02x -> %d: error %d exceeds half step %d", tc.c.Name(), x, codes[i], y, err, half)
				}
			} else {
				worst = max(worst, abs(err)*1000/half)
			}
			if i > 0 && y < out[i-1] {
				t.Errorf("%s: not monotonic at %d: %d < %d", tc.c.Name(), x, y, out[i-1])
			}
		}
		if worst != 1000 {
			t.Errorf("%s: worst in-range error is %d/1000 of a half step; the bound is not tight", tc.c.Name(), worst)
		}
	}
}

// TestReencodeIsIdentity: a decoded value encodes back to its own code, so a G.711 payload
// survives decode-then-encode (e.g. through a mixer at unity gain) bit for bit. µ-law has two
// zeros, 0xFF and 0x7F; both decode to 0, which encodes as 0xFF.
func TestReencodeIsIdentity(t *testing.T) {
	for _, tc := range g711Codecs {
		for c := range 256 {
			var pcm [1]int16
			var back [1]byte
			tc.c.DecodeTo(pcm[:], []byte{byte(c)})
			tc.c.EncodeTo(back[:], pcm[:])
			want := byte(c)
			if tc.c == PCMU && c == 0x7F {
				want = 0xFF
			}
			if back[0] != want {
				t.Errorf("%s: %#02x -> %d -> %#02x", tc.c.Name(), c, pcm[0], back[0])
			}
		}
	}
}

// The tables are built from the per-sample functions; check each table entry once against them
// (the encode tables cover every input only through the index, so test the index mapping too).
func TestTablesMatchFunctions(t *testing.T) {
	for _, x := range allInt16() {
		if ulawEncodeTable[uint16(x)>>2] != ulawEncode(x) {
			t.Fatalf("µ-law table differs at %d", x)
		}
		if alawEncodeTable[uint16(x)>>4] != alawEncode(x) {
			t.Fatalf("A-law table differs at %d", x)
		}
	}
}

func TestLengths(t *testing.T) {
	for _, tc := range g711Codecs {
		c := tc.c
		if c.ClockRate() != 8000 || c.EncodedLen(FrameSamples) != FrameSamples {
			t.Errorf("%s: clock %d, EncodedLen(160) %d", c.Name(), c.ClockRate(), c.EncodedLen(FrameSamples))
		}
		// DecodeTo writes min(len(dst), len(payload)) and leaves the rest of dst alone.
		dst := []int16{1, 1, 1, 1}
		if n := c.DecodeTo(dst, []byte{tc.silent, tc.silent}); n != 2 || dst[2] != 1 {
			t.Errorf("%s: short payload: n=%d dst=%v", c.Name(), n, dst)
		}
		if n := c.DecodeTo(dst[:1], []byte{1, 2, 3}); n != 1 {
			t.Errorf("%s: short dst: n=%d", c.Name(), n)
		}
		if n := c.EncodeTo(nil, nil); n != 0 {
			t.Errorf("%s: empty encode wrote %d", c.Name(), n)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: EncodeTo into a short dst did not panic", c.Name())
				}
			}()
			c.EncodeTo(make([]byte, 1), make([]int16, 2))
		}()
	}
}

func TestSilenceFrame(t *testing.T) {
	for _, tc := range g711Codecs {
		dst := make([]byte, FrameSamples)
		if n := SilenceFrame(tc.c, dst); n != FrameSamples {
			t.Fatalf("%s: SilenceFrame wrote %d", tc.c.Name(), n)
		}
		for i, b := range dst {
			if b != tc.silent {
				t.Fatalf("%s: silence byte %d is %#02x, want %#02x", tc.c.Name(), i, b, tc.silent)
			}
		}
	}
}

// TestNoAllocs proves the per-frame paths allocate nothing (the benchmarks report the same).
func TestNoAllocs(t *testing.T) {
	pcm := make([]int16, FrameSamples)
	payload := make([]byte, FrameSamples)
	ev := make([]byte, DTMFEventLen)
	for _, c := range []G711{PCMU, PCMA} {
		checks := map[string]func(){
			"EncodeTo":     func() { c.EncodeTo(payload, pcm) },
			"DecodeTo":     func() { c.DecodeTo(pcm, payload) },
			"SilenceFrame": func() { SilenceFrame(c, payload) },
		}
		for name, f := range checks {
			if a := testing.AllocsPerRun(100, f); a != 0 {
				t.Errorf("%s %s: %v allocs per frame", c.Name(), name, a)
			}
		}
	}
	others := map[string]func(){
		"ByName":         func() { ByName("pcma/8000/1") },
		"ByPayloadType":  func() { ByPayloadType(8) },
		"MarshalTo":      func() { DTMFEvent{Event: 5, Volume: 10, Duration: 160}.MarshalTo(ev) },
		"ParseDTMFEvent": func() { ParseDTMFEvent(ev) },
		"ParseShort":     func() { ParseDTMFEvent(ev[:1]) },
	}
	for name, f := range others {
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s: %v allocs", name, a)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
