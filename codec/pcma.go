package codec

import "math/bits"

// PCMA is ITU-T G.711 A-law, static RTP payload type 8 (RFC 3551 §4.5.14).
var PCMA G711 = pcma{}

type pcma struct{}

func (pcma) Name() string          { return "PCMA" }
func (pcma) PayloadType() uint8    { return 8 }
func (pcma) ClockRate() int        { return SampleRate }
func (pcma) EncodedLen(n int) int  { return n }
func (pcma) SampleRate() int       { return SampleRate }
func (pcma) Channels() int         { return 1 }
func (pcma) MaxPayload() int       { return FrameSamples }
func (c pcma) NewEncoder() Encoder { return g711Coder{c} }
func (c pcma) NewDecoder() Decoder { return g711Coder{c} }

func (pcma) EncodeTo(dst []byte, pcm []int16) int {
	dst = dst[:len(pcm)] // panics on a short dst, as promised; removes bounds checks below
	for i, x := range pcm {
		dst[i] = alawEncodeTable[uint16(x)>>4]
	}
	return len(pcm)
}

func (pcma) DecodeTo(dst []int16, payload []byte) int {
	n := min(len(dst), len(payload))
	dst, payload = dst[:n], payload[:n]
	for i, c := range payload {
		dst[i] = alawDecodeTable[c]
	}
	return n
}

// alawEncode is the G.711 A-law compressor exactly as in the ITU-T G.191 reference code
// (alaw_compress): 12-bit magnitude (one's complement for negatives, like µ-law), segment =
// position of the leading one, 4 mantissa bits after it, and every even bit inverted (^0x55)
// as G.711 specifies for transmission.
func alawEncode(x int16) byte {
	s := x >> 15
	mag := int(x^s) >> 4 // 0..2047
	// Segments 0 and 1 share a step, so mag < 32 is its own code; above that the shift e
	// keeps five significant bits (16..31) and e<<4 adds the segment number on top.
	e := max(bits.Len(uint(mag))-5, 0)
	code := byte(e<<4 + mag>>e)
	return (code | byte(^s)&0x80) ^ 0x55
}

// alawDecode is the G.191 A-law expander (alaw_expand) scaled to 16 bits: the middle of the
// cell the code names. A-law has no zero output; the smallest magnitude is 8.
func alawDecode(c byte) int16 {
	c ^= 0x55
	seg := int(c>>4) & 7
	mant := int(c & 0xF)
	if seg > 0 {
		mant += 16 // implicit leading one
	}
	v := mant<<4 + 8
	if seg > 1 {
		v <<= seg - 1
	}
	if c&0x80 == 0 {
		return int16(-v)
	}
	return int16(v)
}

// A-law keeps 12 bits (x>>4), so the whole encoder fits a 4 KiB table.
var alawEncodeTable = func() (t [1 << 12]byte) {
	for i := range t {
		t[i] = alawEncode(int16(uint16(i) << 4))
	}
	return t
}()

var alawDecodeTable = func() (t [256]int16) {
	for i := range t {
		t[i] = alawDecode(byte(i))
	}
	return t
}()
