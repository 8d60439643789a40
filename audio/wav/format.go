// Package wav reads and writes WAV files for dialtone: a Source that plays any common PCM
// WAV file as 8 kHz mono call audio (downmixing and band-limited resampling on the way), a
// Sink that records call audio to an 8 kHz mono 16-bit file, and the Resampler both use,
// which the sound-card backend reuses for 48 kHz devices. Standard library only.
package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Errors that describe why a file cannot be read; test for them with errors.Is.
var (
	ErrNotRIFF     = errors.New("not a RIFF file")
	ErrNotWAVE     = errors.New("not a WAVE file")
	ErrNoFormat    = errors.New("no fmt chunk before the data chunk")
	ErrNoData      = errors.New("no data chunk")
	ErrTruncated   = errors.New("truncated")
	ErrBadFormat   = errors.New("invalid fmt chunk")
	ErrUnsupported = errors.New("unsupported")
)

// Encoding is how samples are stored in a file's data chunk.
type Encoding int

// The encodings the decoder understands.
const (
	PCM   Encoding = iota + 1 // integer PCM: 8-bit unsigned, 16/24/32-bit signed little-endian
	Float                     // IEEE 754 float, 32 or 64 bit
	ALaw                      // G.711 A-law, 8 bit
	MuLaw                     // G.711 µ-law, 8 bit
)

func (e Encoding) String() string {
	switch e {
	case PCM:
		return "PCM"
	case Float:
		return "float"
	case ALaw:
		return "A-law"
	case MuLaw:
		return "µ-law"
	}
	return fmt.Sprintf("Encoding(%d)", int(e))
}

// Format describes the audio in a WAV file.
type Format struct {
	Encoding      Encoding
	Channels      int
	SampleRate    int // Hz
	BitsPerSample int // container size: 8, 16, 24, 32 or 64
}

func (f Format) String() string {
	return fmt.Sprintf("%d-bit %s, %d Hz, %d channel(s)", f.BitsPerSample, f.Encoding, f.SampleRate, f.Channels)
}

// blockAlign is the size in bytes of one sample frame (a sample for every channel).
func (f Format) blockAlign() int { return f.Channels * f.BitsPerSample / 8 }

// Format tags in the fmt chunk (mmreg.h).
const (
	tagPCM        = 0x0001
	tagFloat      = 0x0003
	tagALaw       = 0x0006
	tagMuLaw      = 0x0007
	tagExtensible = 0xFFFE
)

// Limits that keep a hostile header from asking for absurd work or memory.
const (
	maxChannels = 1024
	minRate     = 1000
	maxRate     = 768000
)

// extensibleGUIDTail is the part of a WAVE_FORMAT_EXTENSIBLE subformat GUID that follows the
// two-byte format tag (KSDATAFORMAT_SUBTYPE_*: tag-0000-0010-8000-00aa00389b71).
var extensibleGUIDTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// parseFmt validates the body of a fmt chunk (at least 16 bytes; the first 40 are enough).
func parseFmt(b []byte) (Format, error) {
	le := binary.LittleEndian
	tag := le.Uint16(b[0:])
	channels := int(le.Uint16(b[2:]))
	rate := le.Uint32(b[4:])
	blockAlign := int(le.Uint16(b[12:]))
	bits := int(le.Uint16(b[14:]))
	if tag == tagExtensible {
		if len(b) < 40 {
			return Format{}, fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE needs a 40-byte fmt chunk, this one has %d", ErrBadFormat, len(b))
		}
		guid := b[24:40]
		if string(guid[2:]) != string(extensibleGUIDTail) {
			return Format{}, fmt.Errorf("%w WAVE_FORMAT_EXTENSIBLE subformat GUID % X", ErrUnsupported, guid)
		}
		tag = le.Uint16(guid)
		// wBitsPerSample is the container size; the valid bits (b[18:]) sit left-justified
		// in it, so decoding by container size is right whatever they are.
	}

	var f Format
	switch tag {
	case tagPCM:
		f.Encoding = PCM
	case tagFloat:
		f.Encoding = Float
	case tagALaw:
		f.Encoding = ALaw
	case tagMuLaw:
		f.Encoding = MuLaw
	default:
		return Format{}, fmt.Errorf("%w format code 0x%04X (%s); convert it to PCM first, e.g. with sox", ErrUnsupported, tag, tagName(tag))
	}

	if channels == 0 {
		return Format{}, fmt.Errorf("%w: 0 channels", ErrBadFormat)
	}
	if channels > maxChannels {
		return Format{}, fmt.Errorf("%w channel count %d (at most %d)", ErrUnsupported, channels, maxChannels)
	}
	if rate < minRate || rate > maxRate {
		return Format{}, fmt.Errorf("%w sample rate %d Hz (supported: %d to %d Hz)", ErrUnsupported, rate, minRate, maxRate)
	}
	f.Channels, f.SampleRate = channels, int(rate)

	switch {
	case f.Encoding == PCM && bits >= 1 && bits <= 32:
		// Fewer bits than the container (12-bit audio in 16-bit words) are left-justified.
		f.BitsPerSample = (bits + 7) / 8 * 8
	case f.Encoding == Float && (bits == 32 || bits == 64):
		f.BitsPerSample = bits
	case (f.Encoding == ALaw || f.Encoding == MuLaw) && bits == 8:
		f.BitsPerSample = 8
	default:
		return Format{}, fmt.Errorf("%w %d-bit %s", ErrUnsupported, bits, f.Encoding)
	}
	if blockAlign != f.blockAlign() {
		return Format{}, fmt.Errorf("%w: block align %d, want %d for %d channel(s) of %d bits", ErrBadFormat, blockAlign, f.blockAlign(), channels, f.BitsPerSample)
	}
	return f, nil
}

// tagName names common format tags, so the error says what the file actually is.
func tagName(tag uint16) string {
	switch tag {
	case 0x0000:
		return "unknown"
	case 0x0002:
		return "Microsoft ADPCM"
	case 0x0011:
		return "IMA ADPCM"
	case 0x0031:
		return "GSM 6.10"
	case 0x0050:
		return "MPEG"
	case 0x0055:
		return "MPEG Layer 3"
	case 0x0064, 0x0065:
		return "G.726 ADPCM"
	case 0x0161, 0x0162, 0x0163:
		return "Windows Media Audio"
	case 0x1610, 0x00FF:
		return "AAC"
	case 0xF1AC:
		return "FLAC"
	}
	return "not PCM"
}
