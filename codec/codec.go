// Package codec holds dialtone's audio codecs: G.711 µ-law (PCMU) and A-law (PCMA), and the
// RFC 4733 telephone-event payload. Everything works on whole 20 ms frames of 8 kHz mono
// 16-bit PCM, writes into caller-owned buffers and allocates nothing. Standard library only.
package codec

import "errors"

var errShortBuffer = errors.New("codec: destination buffer too short")

// The narrowband format: G.711's audio rate and the 20 ms frame every codec here moves.
// Wideband codecs run at their own SampleRate; FrameSamplesAt gives their frame length.
const (
	SampleRate   = 8000 // Hz
	FrameSamples = 160  // samples in one 20 ms frame at 8 kHz
	FrameMillis  = 20
	// MaxSampleRate is the highest audio rate of any codec (Opus), so buffers sized
	// MaxFrameSamples hold one frame of any call.
	MaxSampleRate   = 48000
	MaxFrameSamples = MaxSampleRate / 1000 * FrameMillis
)

// Codec describes one RTP payload format. Values are shared and stateless; the per-call,
// stateful work is done by the Encoder and Decoder each call makes with NewEncoder and
// NewDecoder.
type Codec interface {
	// Name is the rtpmap encoding name, e.g. "PCMU", "G722", "opus".
	Name() string
	// PayloadType is the static RTP payload type, or the dynamic one dialtone offers (Opus).
	PayloadType() uint8
	// ClockRate is the RTP clock rate in Hz as written in rtpmap: 8000 for G.722 although
	// its audio is 16 kHz (RFC 3551 §4.5.2), 48000 for Opus whatever its audio rate (RFC 7587).
	ClockRate() int
	// SampleRate is the rate of the PCM the Encoder takes and the Decoder gives.
	SampleRate() int
	// Channels is the rtpmap channel count (Opus is always "opus/48000/2"); the PCM is mono.
	Channels() int
	// MaxPayload is the largest payload one 20 ms frame can encode to.
	MaxPayload() int
	NewEncoder() Encoder
	NewDecoder() Decoder
}

// Encoder encodes 20 ms frames of mono PCM at the codec's SampleRate.
type Encoder interface {
	// Encode encodes one frame (FrameSamplesAt(SampleRate) samples) into dst, which holds
	// MaxPayload bytes, and returns the bytes written. It must not allocate.
	Encode(dst []byte, pcm []int16) (int, error)
}

// Decoder decodes payloads to mono PCM at the codec's SampleRate.
type Decoder interface {
	// Decode decodes one payload into dst and returns the samples written; dst holds the
	// payload's duration (a 20 ms frame, or one packet of another duration: PacketTicks). It
	// must not allocate, and a malformed payload is an error, not a panic.
	Decode(dst []int16, payload []byte) (int, error)
}

// Concealer is a Decoder that conceals a lost frame itself (Opus's own PLC); the media path
// uses it instead of its generic waveform-repeating concealment.
type Concealer interface {
	// Conceal writes samples standing in for a lost packet into dst (as long as the packet,
	// usually a 20 ms frame; it may write fewer, then it is called again for the rest) and
	// returns how many.
	Conceal(dst []int16) (int, error)
}

// FECDecoder is a Decoder that can rebuild a lost frame from the forward error correction
// carried in the packet after it (Opus in-band FEC, RFC 7587 §3.3).
type FECDecoder interface {
	// DecodeFEC writes the frame before payload's, rebuilt from payload's FEC data.
	DecodeFEC(dst []int16, payload []byte) (int, error)
}

// G711 is a stateless codec whose frames encode and decode independently, so one value
// serves every call without an Encoder or Decoder of its own (PCMU, PCMA).
type G711 interface {
	Codec
	// EncodeTo encodes pcm into dst and returns the bytes written. dst must hold
	// EncodedLen(len(pcm)) bytes; EncodeTo panics otherwise, like copy's callers expect.
	EncodeTo(dst []byte, pcm []int16) int
	// DecodeTo decodes payload into dst and returns the samples written (min of both lengths).
	DecodeTo(dst []int16, payload []byte) int
	// EncodedLen is the payload size for n samples.
	EncodedLen(n int) int
}

// FrameSamplesAt is the number of samples in one 20 ms frame at rate Hz.
func FrameSamplesAt(rate int) int { return rate / 1000 * FrameMillis }

// TimestampStep is how far the RTP timestamp moves per 20 ms frame of c.
func TimestampStep(c Codec) uint32 { return uint32(c.ClockRate() / 1000 * FrameMillis) }

// g711Coder is the Encoder and Decoder of a stateless G711 codec.
type g711Coder struct{ c G711 }

func (g g711Coder) Encode(dst []byte, pcm []int16) (int, error) {
	if len(dst) < g.c.EncodedLen(len(pcm)) {
		return 0, errShortBuffer
	}
	return g.c.EncodeTo(dst, pcm), nil
}

func (g g711Coder) Decode(dst []int16, payload []byte) (int, error) {
	return g.c.DecodeTo(dst, payload), nil
}

// zeroFrame is one frame of digital silence, shared read-only by SilenceFrame.
var zeroFrame [FrameSamples]int16

// SilenceFrame writes one 20 ms frame of encoded digital silence (0xFF for PCMU, 0xD5 for
// PCMA) to dst and returns the bytes written; dst must hold c.EncodedLen(FrameSamples).
// Useful to keep RTP flowing while muted or on hold, so NAT bindings and jitter buffers on
// the far side stay warm. It encodes zeros through c rather than hard-coding bytes so it
// stays right for any Codec.
func SilenceFrame(c G711, dst []byte) int {
	return c.EncodeTo(dst, zeroFrame[:])
}
