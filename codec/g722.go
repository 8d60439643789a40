package codec

import (
	"errors"
	"fmt"
)

// G722 is ITU-T G.722 at 64 kbit/s (mode 1), static RTP payload type 9 (RFC 3551 §4.5.2):
// 16 kHz audio split by a quadrature mirror filter into two 8 kHz sub-bands, the lower coded
// with 6-bit ADPCM and the upper with 2-bit ADPCM, one octet per pair of input samples. Its RTP
// clock is 8000 Hz although the audio is sampled at 16 kHz, an error in RFC 1890 kept for
// compatibility, so a 20 ms frame is 320 samples, 160 octets and 160 timestamp units.
// Written from the Recommendation's block descriptions (g722_band.go) in pure Go.
var G722 Codec = g722{}

func init() { g722Codec = G722 }

const (
	g722Rate         = 16000
	g722FrameSamples = g722Rate / 1000 * FrameMillis // 320
	g722FrameOctets  = g722FrameSamples / 2          // 160
)

var errOddSamples = errors.New("codec: G.722 encodes whole pairs of samples")

type g722 struct{}

func (g722) Name() string        { return "G722" }
func (g722) PayloadType() uint8  { return 9 }
func (g722) ClockRate() int      { return SampleRate } // RFC 3551's quirk: 8000, not 16000
func (g722) SampleRate() int     { return g722Rate }
func (g722) Channels() int       { return 1 }
func (g722) MaxPayload() int     { return g722FrameOctets }
func (g722) NewEncoder() Encoder { return NewG722Encoder() }
func (g722) NewDecoder() Decoder { return NewG722Decoder() }

// G722Encoder is the per-call state of a G.722 encoder: the transmit QMF's delay line and the
// two sub-band ADPCM encoders. The zero value is not ready; use NewG722Encoder.
type G722Encoder struct {
	qmf  qmfLine // input history
	low  band
	high band
}

// NewG722Encoder returns an encoder in G.722's reset state (all predictor state zero,
// the scale factors at their minimum).
func NewG722Encoder() *G722Encoder {
	e := &G722Encoder{}
	e.low.reset(detLowMin)
	e.high.reset(detHighMin)
	return e
}

// Encode encodes pcm, 16 kHz mono, into one octet per pair of samples: the upper band's 2-bit
// code in the two most significant bits, the lower band's 6-bit code below.
// Usually pcm is one 20 ms frame of 320 samples, but any even length works, so the stream can
// be cut anywhere between pairs; an odd length is an error and encodes nothing.
func (e *G722Encoder) Encode(dst []byte, pcm []int16) (int, error) {
	if len(pcm)%2 != 0 {
		return 0, fmt.Errorf("g722 encode %d samples: %w", len(pcm), errOddSamples)
	}
	n := len(pcm) / 2
	if len(dst) < n {
		return 0, fmt.Errorf("g722 encode %d samples into %d octets: %w", len(pcm), len(dst), errShortBuffer)
	}
	dst = dst[:n]
	for i := range dst {
		xl, xh := e.analyse(pcm[2*i], pcm[2*i+1])
		il := e.low.encodeLow(xl)
		ih := e.high.encodeHigh(xh)
		dst[i] = byte(ih<<6 | il)
	}
	return n, nil
}

// G722Decoder is the per-call state of a G.722 decoder: the two sub-band ADPCM decoders and
// the receive QMF's delay line. The zero value is not ready; use NewG722Decoder.
type G722Decoder struct {
	low  band
	high band
	qmf  qmfLine // interleaved difference/sum history
}

// NewG722Decoder returns a decoder in the reset state.
func NewG722Decoder() *G722Decoder {
	d := &G722Decoder{}
	d.low.reset(detLowMin)
	d.high.reset(detHighMin)
	return d
}

// Decode decodes a payload of any length into two 16 kHz samples per octet (every octet is a
// valid code, so there is no malformed payload, only a dst too short to hold it, which is an
// error that leaves the decoder's state untouched).
func (d *G722Decoder) Decode(dst []int16, payload []byte) (int, error) {
	if len(dst) < 2*len(payload) {
		return 0, fmt.Errorf("g722 decode %d octets into %d samples: %w", len(payload), len(dst), errShortBuffer)
	}
	dst = dst[:2*len(payload)]
	for i, c := range payload {
		rl := d.low.decodeLow(int32(c & 0x3F))
		rh := d.high.decodeHigh(int32(c >> 6))
		dst[2*i], dst[2*i+1] = d.synthesise(rl, rh)
	}
	return len(dst), nil
}
