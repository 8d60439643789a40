//go:build cgo && !noopus

package codec

/*
#cgo pkg-config: opus
#include <opus.h>

// opus_encoder_ctl is variadic, which cgo cannot call: these wrappers pass one setting each.
// Our whole encoder configuration goes in one call so a failure names the setting.
static int dt_opus_enc_setup(OpusEncoder *st, opus_int32 bitrate, int complexity, int fec,
                             int loss, int *failed) {
	int err;
	*failed = OPUS_SET_BITRATE_REQUEST;
	if ((err = opus_encoder_ctl(st, OPUS_SET_BITRATE(bitrate))) != OPUS_OK) return err;
	*failed = OPUS_SET_COMPLEXITY_REQUEST;
	if ((err = opus_encoder_ctl(st, OPUS_SET_COMPLEXITY(complexity))) != OPUS_OK) return err;
	*failed = OPUS_SET_SIGNAL_REQUEST;
	if ((err = opus_encoder_ctl(st, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE))) != OPUS_OK) return err;
	*failed = OPUS_SET_INBAND_FEC_REQUEST;
	if ((err = opus_encoder_ctl(st, OPUS_SET_INBAND_FEC(fec))) != OPUS_OK) return err;
	*failed = OPUS_SET_PACKET_LOSS_PERC_REQUEST;
	if ((err = opus_encoder_ctl(st, OPUS_SET_PACKET_LOSS_PERC(loss))) != OPUS_OK) return err;
	*failed = OPUS_SET_DTX_REQUEST;
	if ((err = opus_encoder_ctl(st, OPUS_SET_DTX(0))) != OPUS_OK) return err;
	*failed = 0;
	return OPUS_OK;
}

static int dt_opus_set_bitrate(OpusEncoder *st, opus_int32 bps) {
	return opus_encoder_ctl(st, OPUS_SET_BITRATE(bps));
}

static int dt_opus_set_loss(OpusEncoder *st, int pct) {
	return opus_encoder_ctl(st, OPUS_SET_PACKET_LOSS_PERC(pct));
}
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// Opus is RFC 6716 audio in RTP as RFC 7587 describes it, through libopus. RFC 7587 §7 fixes
// the rtpmap at "opus/48000/2" whatever is sent; we send mono (the SDP says sprop-stereo=0 and
// asks for stereo=0) and decode to mono, libopus downmixing any stereo packet a peer sends.
// Nil in a build without cgo or with the noopus tag (opus_stub.go).
var Opus Codec = opusCodecT{}

func init() { opusCodec = Opus }

// Encoder settings for a two-party VoIP call. 36 kbit/s is inside RFC 7587 §3.1.1's
// 28-40 kbit/s band for fullband speech, so libopus codes hybrid SILK+CELT up to 20 kHz.
// In-band FEC needs a loss hint above zero before it spends bits; 5 % is a typical Internet
// figure. The rate is 36, not 32, kbit/s because libopus 1.3.1's decide_fec only codes LBRR
// at fullband when the complexity- and loss-adjusted rate beats 27.6 kbit/s: 32 kbit/s at
// complexity 5 gives 26.6 and FEC is silently off (TestOpusFECBeatsPLC caught it); 36 gives
// 29.9. Complexity 5 costs about half of complexity 10's CPU (BenchmarkOpusEncodeComplexity)
// for a small speech-quality loss; a softphone may share a small laptop with much else.
const (
	opusBitrate    = 36000
	opusComplexity = 5
	opusLossPerc   = 5
	// opusMaxPayload caps each 20 ms packet (opus_encode's max_data_bytes). Constrained VBR
	// keeps packets near the 90-byte average; over 3 times that leaves room for onsets
	// without the 1275-byte worst case of RFC 6716 §3.4 sizing every send buffer.
	opusMaxPayload = 320
	// opusMaxDecode is the longest packet RFC 6716 allows: 120 ms at 48 kHz.
	opusMaxDecode = 5760
	// opusMinFrame is the shortest Opus frame, 2.5 ms at 48 kHz: concealment comes in whole ones.
	opusMinFrame = 120
)

var (
	errOpusEmpty     = errors.New("opus: empty payload")
	errOpusNoSamples = errors.New("opus: no samples to encode")
)

type opusCodecT struct{}

func (opusCodecT) Name() string        { return "opus" }
func (opusCodecT) PayloadType() uint8  { return 111 }
func (opusCodecT) ClockRate() int      { return 48000 }
func (opusCodecT) SampleRate() int     { return 48000 }
func (opusCodecT) Channels() int       { return 2 }
func (opusCodecT) MaxPayload() int     { return opusMaxPayload }
func (opusCodecT) NewEncoder() Encoder { return mustOpus(newOpusEncoder()) }
func (opusCodecT) NewDecoder() Decoder { return mustOpus(newOpusDecoder()) }

// PacketTicks reads the packet's duration at 48 kHz from its TOC (PacketTimer).
func (opusCodecT) PacketTicks(payload []byte) int { return opusPacketSamples(payload) }

// mustOpus turns a failed libopus initialisation into a panic: with constant, valid
// arguments it can only fail if libopus itself is broken, and the Codec contract has no
// error return. The constructors are tested.
func mustOpus[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The libopus states live in Go memory: libopus documents them as contiguous and shallow-
// copyable (opus.h), so no C pointer is kept, nothing needs freeing and the garbage collector
// reclaims a call's codec state like any other value. A []uint64 gives 8-byte alignment.
// libopus only sees a pointer during each call, as the cgo rules require.

// opusSettings are the encoder controls dialtone sets; tests and benchmarks try others.
type opusSettings struct{ bitrate, complexity, lossPerc int }

var defaultOpusSettings = opusSettings{opusBitrate, opusComplexity, opusLossPerc}

// opusEncoder encodes mono 48 kHz PCM. Not safe for concurrent use.
type opusEncoder struct{ st []uint64 }

func newOpusEncoder() (*opusEncoder, error) { return newOpusEncoderWith(defaultOpusSettings) }

func newOpusEncoderWith(s opusSettings) (*opusEncoder, error) {
	size := int(C.opus_encoder_get_size(1))
	e := &opusEncoder{st: make([]uint64, (size+7)/8)}
	if rc := C.opus_encoder_init(e.state(), 48000, 1, C.OPUS_APPLICATION_VOIP); rc != C.OPUS_OK {
		return nil, opusError("opus encoder init", rc)
	}
	var failed C.int
	rc := C.dt_opus_enc_setup(e.state(), C.opus_int32(s.bitrate), C.int(s.complexity), 1,
		C.int(s.lossPerc), &failed)
	if rc != C.OPUS_OK {
		return nil, opusError(fmt.Sprintf("opus encoder ctl %d", int(failed)), rc)
	}
	return e, nil
}

func (e *opusEncoder) state() *C.OpusEncoder { return (*C.OpusEncoder)(unsafe.Pointer(&e.st[0])) }

// Encode encodes one frame: len(pcm) must be an Opus frame size (2.5 to 60 ms at 48 kHz;
// the media path sends 20 ms, 960 samples). At most MaxPayload bytes are written.
func (e *opusEncoder) Encode(dst []byte, pcm []int16) (int, error) {
	if len(pcm) == 0 {
		return 0, errOpusNoSamples
	}
	if len(dst) == 0 {
		return 0, errShortBuffer
	}
	n := C.opus_encode(e.state(), (*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(len(pcm)),
		(*C.uchar)(unsafe.Pointer(&dst[0])), C.opus_int32(min(len(dst), opusMaxPayload)))
	if n < 0 {
		return 0, opusErr(-n)
	}
	return int(n), nil
}

var _ RateController = (*opusEncoder)(nil)

// SetBitrate changes the target bitrate (6000 to 510000 bit/s), e.g. to a peer's
// maxaveragebitrate. Below about 30 kbit/s libopus 1.3.1 drops in-band FEC at a 5 % loss hint.
func (e *opusEncoder) SetBitrate(bps int) error {
	if bps < 6000 || bps > 510000 {
		return fmt.Errorf("opus bitrate %d: want 6000 to 510000 bit/s", bps)
	}
	if rc := C.dt_opus_set_bitrate(e.state(), C.opus_int32(bps)); rc != C.OPUS_OK {
		return opusError("opus bitrate", rc)
	}
	return nil
}

// SetLossPercent changes the expected packet loss (0 to 100 %), e.g. from RTCP receiver
// reports: more loss makes libopus spend more of the bitrate on FEC, 0 turns FEC off.
func (e *opusEncoder) SetLossPercent(pct int) error {
	if pct < 0 || pct > 100 {
		return fmt.Errorf("opus loss %d %%: want 0 to 100", pct)
	}
	if rc := C.dt_opus_set_loss(e.state(), C.int(pct)); rc != C.OPUS_OK {
		return opusError("opus loss", rc)
	}
	return nil
}

// opusDecoder decodes to mono 48 kHz PCM, conceals lost frames with libopus's PLC and
// rebuilds them from the next packet's in-band FEC. Not safe for concurrent use.
type opusDecoder struct{ st []uint64 }

var (
	_ Concealer  = (*opusDecoder)(nil)
	_ FECDecoder = (*opusDecoder)(nil)
)

func newOpusDecoder() (*opusDecoder, error) {
	size := int(C.opus_decoder_get_size(1))
	d := &opusDecoder{st: make([]uint64, (size+7)/8)}
	if rc := C.opus_decoder_init(d.state(), 48000, 1); rc != C.OPUS_OK {
		return nil, opusError("opus decoder init", rc)
	}
	return d, nil
}

func (d *opusDecoder) state() *C.OpusDecoder { return (*C.OpusDecoder)(unsafe.Pointer(&d.st[0])) }

// Decode decodes one packet (any duration up to 120 ms that fits dst).
func (d *opusDecoder) Decode(dst []int16, payload []byte) (int, error) {
	if len(payload) == 0 {
		// libopus would run its PLC for an empty packet; a lost frame is Conceal's job.
		return 0, errOpusEmpty
	}
	return d.decode(dst, payload, min(len(dst), opusMaxDecode), 0)
}

// Conceal runs libopus's packet-loss concealment for as much of dst as whole 2.5 ms make (the
// duration of the packet that was lost), at most 120 ms.
func (d *opusDecoder) Conceal(dst []int16) (int, error) {
	return d.decode(dst, nil, min(len(dst)-len(dst)%opusMinFrame, opusMaxDecode), 0)
}

// DecodeFEC rebuilds the 20 ms frame before payload from payload's LBRR data; when payload
// carries none (CELT-only packets, or the encoder saw no loss), libopus falls back to PLC.
// The caller then decodes payload itself with Decode, as RFC 7587 §3.3 describes.
func (d *opusDecoder) DecodeFEC(dst []int16, payload []byte) (int, error) {
	if len(payload) == 0 {
		return 0, errOpusEmpty
	}
	return d.decode(dst, payload, FrameSamplesAt(48000), 1)
}

func (d *opusDecoder) decode(dst []int16, payload []byte, frame, fec int) (int, error) {
	if len(dst) < frame || frame == 0 {
		return 0, errShortBuffer
	}
	var data *C.uchar
	if len(payload) > 0 {
		data = (*C.uchar)(unsafe.Pointer(&payload[0]))
	}
	n := C.opus_decode(d.state(), data, C.opus_int32(len(payload)),
		(*C.opus_int16)(unsafe.Pointer(&dst[0])), C.int(frame), C.int(fec))
	if n < 0 {
		return 0, opusErr(-n)
	}
	return int(n), nil
}

// opusError wraps a libopus error code with its message, for the constructors.
func opusError(what string, rc C.int) error {
	return fmt.Errorf("%s: %w", what, opusErr(-rc))
}

// opusErr is a negated libopus error code (1 to 7). Per-frame errors are returned as this
// bare value, not wrapped: a one-byte value fits an interface without allocating, so a stream
// of garbage packets costs no garbage. Callers add their own context.
type opusErr uint8

func (e opusErr) Error() string {
	return "opus: " + C.GoString(C.opus_strerror(-C.int(e)))
}
