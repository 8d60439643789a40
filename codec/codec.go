// Package codec holds dialtone's audio codecs: G.711 µ-law (PCMU) and A-law (PCMA), and the
// RFC 4733 telephone-event payload. Everything works on whole 20 ms frames of 8 kHz mono
// 16-bit PCM, writes into caller-owned buffers and allocates nothing. Standard library only.
package codec

// Audio format shared by every codec here and by the audio package.
const (
	SampleRate   = 8000 // Hz
	FrameSamples = 160  // samples in one 20 ms frame
	FrameMillis  = 20
)

// Codec converts between 16-bit linear PCM and one RTP payload format.
type Codec interface {
	// Name is the rtpmap encoding name, e.g. "PCMU".
	Name() string
	// PayloadType is the static RTP payload type (0 for PCMU, 8 for PCMA).
	PayloadType() uint8
	// ClockRate is the RTP clock rate in Hz.
	ClockRate() int
	// EncodeTo encodes pcm into dst and returns the bytes written. dst must hold
	// EncodedLen(len(pcm)) bytes; EncodeTo panics otherwise, like copy's callers expect.
	EncodeTo(dst []byte, pcm []int16) int
	// DecodeTo decodes payload into dst and returns the samples written (min of both lengths).
	DecodeTo(dst []int16, payload []byte) int
	// EncodedLen is the payload size for n samples.
	EncodedLen(n int) int
}

// zeroFrame is one frame of digital silence, shared read-only by SilenceFrame.
var zeroFrame [FrameSamples]int16

// SilenceFrame writes one 20 ms frame of encoded digital silence (0xFF for PCMU, 0xD5 for
// PCMA) to dst and returns the bytes written; dst must hold c.EncodedLen(FrameSamples).
// Useful to keep RTP flowing while muted or on hold, so NAT bindings and jitter buffers on
// the far side stay warm. It encodes zeros through c rather than hard-coding bytes so it
// stays right for any Codec.
func SilenceFrame(c Codec, dst []byte) int {
	return c.EncodeTo(dst, zeroFrame[:])
}
