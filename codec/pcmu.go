package codec

import "math/bits"

// PCMU is ITU-T G.711 µ-law, static RTP payload type 0 (RFC 3551 §4.5.14).
var PCMU G711 = pcmu{}

type pcmu struct{}

func (pcmu) Name() string          { return "PCMU" }
func (pcmu) PayloadType() uint8    { return 0 }
func (pcmu) ClockRate() int        { return SampleRate }
func (pcmu) EncodedLen(n int) int  { return n }
func (pcmu) SampleRate() int       { return SampleRate }
func (pcmu) Channels() int         { return 1 }
func (pcmu) MaxPayload() int       { return FrameSamples }
func (c pcmu) NewEncoder() Encoder { return g711Coder{c} }
func (c pcmu) NewDecoder() Decoder { return g711Coder{c} }

func (pcmu) EncodeTo(dst []byte, pcm []int16) int {
	// Reslicing once panics up front on a short dst (as the interface promises) and lets the
	// compiler drop the per-sample bounds checks.
	dst = dst[:len(pcm)]
	for i, x := range pcm {
		dst[i] = ulawEncodeTable[uint16(x)>>2]
	}
	return len(pcm)
}

func (pcmu) DecodeTo(dst []int16, payload []byte) int {
	n := min(len(dst), len(payload))
	dst, payload = dst[:n], payload[:n]
	for i, c := range payload {
		dst[i] = ulawDecodeTable[c]
	}
	return n
}

const (
	ulawBias = 33     // 0x21: shifts the 14-bit magnitude so segment edges fall on powers of two
	ulawClip = 0x1FFF // largest biased magnitude; louder input saturates to the top code
)

// ulawEncode is the G.711 µ-law compressor exactly as in the ITU-T G.191 reference code
// (ulaw_compress): the 16-bit sample is cut to 14 bits, negatives use the one's complement
// (~x = -x-1, so -1..-4 share the cell of 0..3 and the quantiser stays symmetric about -½),
// the bias is added, and the code is the inverted segment number and the 4 bits after the
// leading one. It truncates rather than rounds; the decoder's mid-cell output makes up for it.
func ulawEncode(x int16) byte {
	s := x >> 15                  // 0 for x >= 0, -1 for x < 0
	mag := int(x^s)>>2 + ulawBias // x^s is x or ^x
	mag = min(mag, ulawClip)
	seg := bits.Len(uint(mag >> 6)) // 0..7
	mant := (mag >> (seg + 1)) & 0xF
	code := byte(seg<<4|mant) ^ 0x7F // G.711 transmits µ-law inverted
	return code | byte(^s)&0x80      // sign bit set for x >= 0
}

// ulawDecode is the G.191 µ-law expander (ulaw_expand) scaled to 16 bits: the middle of the
// cell the code names, minus the bias.
func ulawDecode(c byte) int16 {
	c = ^c
	seg := int(c>>4) & 7
	mant := int(c & 0xF)
	v := ((mant<<3 + 0x84) << seg) - 0x84 // 0x84 = bias 33 on the 16-bit scale
	if c&0x80 != 0 {
		return int16(-v)
	}
	return int16(v)
}

// Every encoded value depends only on x>>2 (the 14 bits G.711 keeps, and ^x>>2 == ^(x>>2)),
// so a 16 KiB table indexed by the top 14 bits replaces the per-sample arithmetic with one
// load (compare BenchmarkEncodePCMU with BenchmarkEncodeArithmeticPCMU). Building it at init
// from ulawEncode, rather than pasting 16384 literals, keeps the reference algorithm the
// single source of truth.
var ulawEncodeTable = func() (t [1 << 14]byte) {
	for i := range t {
		t[i] = ulawEncode(int16(uint16(i) << 2))
	}
	return t
}()

var ulawDecodeTable = func() (t [256]int16) {
	for i := range t {
		t[i] = ulawDecode(byte(i))
	}
	return t
}()
