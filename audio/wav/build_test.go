package wav_test

import (
	"encoding/binary"
	"math"

	"github.com/dialtone/dialtone/audio/wav"
)

// Helpers that build WAV files byte by byte, so tests control every field (and can break
// any of them).

var le = binary.LittleEndian

// fmtBody is a 16-byte fmt chunk body.
func fmtBody(tag uint16, channels, rate, bits int) []byte {
	b := le.AppendUint16(nil, tag)
	b = le.AppendUint16(b, uint16(channels))
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(rate*channels*bits/8))
	b = le.AppendUint16(b, uint16(channels*bits/8))
	return le.AppendUint16(b, uint16(bits))
}

// fmtExtensible is a 40-byte WAVE_FORMAT_EXTENSIBLE fmt body with subformat sub.
func fmtExtensible(sub uint16, channels, rate, bits, validBits int) []byte {
	b := fmtBody(0xFFFE, channels, rate, bits)
	b = le.AppendUint16(b, 22) // cbSize
	b = le.AppendUint16(b, uint16(validBits))
	b = le.AppendUint32(b, 0) // channel mask
	b = le.AppendUint16(b, sub)
	return append(b, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71)
}

// chunk is a chunk with its true size and the pad byte odd sizes need.
func chunk(id string, body []byte) []byte {
	b := rawChunk(id, uint32(len(body)), body)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// rawChunk is a chunk with whatever size it is told to declare, and no padding.
func rawChunk(id string, size uint32, body []byte) []byte {
	b := append([]byte(id), le.AppendUint32(nil, size)...)
	return append(b, body...)
}

// riff wraps chunks in a RIFF/WAVE header.
func riff(chunks ...[]byte) []byte {
	var body []byte
	for _, c := range chunks {
		body = append(body, c...)
	}
	b := append([]byte("RIFF"), le.AppendUint32(nil, uint32(4+len(body)))...)
	b = append(b, "WAVE"...)
	return append(b, body...)
}

// encodeSamples encodes interleaved samples in [-1, 1] in the given encoding and size.
func encodeSamples(samples []float64, enc wav.Encoding, bits int) []byte {
	var b []byte
	for _, v := range samples {
		switch {
		case enc == wav.Float && bits == 32:
			b = le.AppendUint32(b, math.Float32bits(float32(v)))
		case enc == wav.Float:
			b = le.AppendUint64(b, math.Float64bits(v))
		case enc == wav.MuLaw:
			b = append(b, muLawEncode(int16(quantise(v, 16))))
		case bits == 8:
			b = append(b, byte(quantise(v, 8)+128))
		case bits == 16:
			b = le.AppendUint16(b, uint16(quantise(v, 16)))
		case bits == 24:
			q := uint32(quantise(v, 24))
			b = append(b, byte(q), byte(q>>8), byte(q>>16))
		case bits == 32:
			b = le.AppendUint32(b, uint32(quantise(v, 32)))
		}
	}
	return b
}

// quantise scales v in [-1, 1] to a signed integer of bits bits.
func quantise(v float64, bits int) int64 {
	full := math.Ldexp(1, bits-1)
	return int64(math.Max(-full, math.Min(full-1, math.Round(v*full))))
}

func muLawEncode(s int16) byte {
	const bias, clip = 0x84, 32635
	v, sign := int(s), 0
	if v < 0 {
		v, sign = -v, 0x80
	}
	v = min(v, clip) + bias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	return ^byte(sign | exp<<4 | (v>>(exp+3))&0x0F)
}

// sineFrames returns n frames of interleaved samples: a sine of freq Hz and peak amp in
// every channel.
func sineFrames(n, channels, rate int, freq, amp float64) []float64 {
	s := make([]float64, 0, n*channels)
	for i := range n {
		v := amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))
		for range channels {
			s = append(s, v)
		}
	}
	return s
}

// toneFile is a complete WAV file holding a sine.
func toneFile(enc wav.Encoding, tag uint16, channels, rate, bits int, freq, amp, seconds float64) []byte {
	n := int(float64(rate) * seconds)
	data := encodeSamples(sineFrames(n, channels, rate, freq, amp), enc, bits)
	return riff(chunk("fmt ", fmtBody(tag, channels, rate, bits)), chunk("data", data))
}
