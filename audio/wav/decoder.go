package wav

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// rawBufBytes bounds the decoder's read buffer whatever the channel count.
const rawBufBytes = 64 << 10

// Decoder reads the samples of a WAV stream, downmixed to mono, at the file's own rate. It
// streams: memory use does not depend on the file's size. It reads chunks in order, so the
// fmt chunk must come before the data chunk (it does in every real file).
type Decoder struct {
	r         io.Reader
	name      string // for error messages; "" when there is no file name
	format    Format
	block     int   // bytes per sample frame
	remaining int64 // data bytes left, or -1 to read to the end of the stream
	raw       []byte
	sample    func(b []byte) float32 // decodes one sample of the file's encoding to [-1, 1)
	done      bool
}

// NewDecoder reads the RIFF header and chunks of r up to the start of the audio data.
func NewDecoder(r io.Reader) (*Decoder, error) { return newDecoder(r, "") }

func newDecoder(r io.Reader, name string) (*Decoder, error) {
	d := &Decoder{r: r, name: name}
	if err := d.readHeader(); err != nil {
		return nil, d.wrap(err)
	}
	f := d.format
	d.block = f.blockAlign()
	d.raw = make([]byte, max(1, rawBufBytes/d.block)*d.block)
	d.sample = sampleDecoder(f)
	return d, nil
}

// wrap adds the package and file name to an error.
func (d *Decoder) wrap(err error) error {
	if d.name == "" {
		return fmt.Errorf("wav: %w", err)
	}
	return fmt.Errorf("wav: %s: %w", d.name, err)
}

// Format describes the file's audio (before downmixing).
func (d *Decoder) Format() Format { return d.format }

// readHeader consumes everything before the audio data and sets format and remaining.
func (d *Decoder) readHeader() error {
	var hdr [12]byte
	n, err := io.ReadFull(d.r, hdr[:])
	switch {
	case n == 0 && (err == io.EOF):
		return fmt.Errorf("%w (empty file)", ErrNotRIFF)
	case n >= 4 && string(hdr[:4]) == "RIFX":
		return fmt.Errorf("%w big-endian RIFX file", ErrUnsupported)
	case n >= 4 && string(hdr[:4]) == "RF64":
		return fmt.Errorf("%w RF64 file (WAV larger than 4 GiB)", ErrUnsupported)
	case n < 4 || string(hdr[:4]) != "RIFF":
		return ErrNotRIFF
	case err != nil:
		return fmt.Errorf("%w RIFF header: %d of 12 bytes", ErrTruncated, n)
	case string(hdr[8:12]) != "WAVE":
		return fmt.Errorf("%w (RIFF form type %q)", ErrNotWAVE, hdr[8:12])
	}

	// The RIFF size field is ignored: writers that crashed or streamed often leave it wrong,
	// and the chunks themselves say all that is needed.
	offset := int64(12)
	haveFmt := false
	for {
		var ch [8]byte
		n, err := io.ReadFull(d.r, ch[:])
		switch {
		case err == io.EOF:
			if !haveFmt {
				return fmt.Errorf("%w and no fmt chunk", ErrNoData)
			}
			return ErrNoData
		case err == io.ErrUnexpectedEOF:
			return fmt.Errorf("%w chunk header at offset %d: %d of 8 bytes", ErrTruncated, offset, n)
		case err != nil:
			return fmt.Errorf("reading chunk header at offset %d: %w", offset, err)
		}
		id := string(ch[:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:]))
		offset += 8

		switch id {
		case "fmt ":
			if size < 16 {
				return fmt.Errorf("%w: fmt chunk is %d bytes, want at least 16", ErrBadFormat, size)
			}
			// Only the first 40 bytes matter (extensible format); skip any extra.
			body := make([]byte, min(size, 40))
			if n, err := io.ReadFull(d.r, body); err != nil {
				return d.readErr(err, fmt.Sprintf("fmt chunk at offset %d: %d of %d bytes", offset-8, n, size))
			}
			f, err := parseFmt(body)
			if err != nil {
				return err
			}
			d.format, haveFmt = f, true
			if err := d.skip(size-int64(len(body))+size&1, "fmt ", offset-8, size); err != nil {
				return err
			}
		case "data":
			if !haveFmt {
				return ErrNoFormat
			}
			d.remaining = size
			// 0 is what a writer leaves when it dies before fixing the header up, and
			// 0xFFFFFFFF is what streaming writers put there: both mean "to the end".
			if size == 0 || size == math.MaxUint32 {
				d.remaining = -1
			}
			return nil
		default: // LIST, fact, cue, bext, PAD, JUNK...: not needed to play the audio
			if err := d.skip(size+size&1, id, offset-8, size); err != nil {
				return err
			}
		}
		offset += size + size&1
	}
}

// skip discards n bytes of the chunk id that started at offset and declared size bytes.
func (d *Decoder) skip(n int64, id string, offset, size int64) error {
	got, err := io.CopyN(io.Discard, d.r, n)
	if err == io.EOF {
		// A missing pad byte after the last chunk is a common writer bug, not damage.
		if got == n-1 && size&1 == 1 {
			return ErrNoData
		}
		return fmt.Errorf("%w %q chunk at offset %d: declares %d bytes, the file ends first", ErrTruncated, id, offset, size)
	}
	if err != nil {
		return fmt.Errorf("skipping %q chunk at offset %d: %w", id, offset, err)
	}
	return nil
}

// readErr turns a short read into ErrTruncated, keeping other I/O errors as they are.
func (d *Decoder) readErr(err error, what string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w %s", ErrTruncated, what)
	}
	return fmt.Errorf("reading %s: %w", what, err)
}

// ReadMono decodes up to len(dst) sample frames, averaging the channels, into dst as values
// in [-1, 1). It returns the number decoded, and io.EOF once the data is exhausted. A data
// chunk that claims more bytes than the file holds just ends early, and a trailing partial
// frame is dropped.
func (d *Decoder) ReadMono(dst []float32) (int, error) {
	if d.done {
		return 0, io.EOF
	}
	frames := min(len(dst), len(d.raw)/d.block)
	if d.remaining >= 0 {
		frames = int(min(int64(frames), d.remaining/int64(d.block)))
	}
	if frames == 0 {
		if len(dst) == 0 {
			return 0, nil
		}
		d.done = true
		return 0, io.EOF
	}
	n, err := io.ReadFull(d.r, d.raw[:frames*d.block])
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		d.done = true
	case err != nil:
		return 0, d.wrap(fmt.Errorf("reading audio data: %w", err))
	}
	if d.remaining >= 0 {
		d.remaining -= int64(n)
	}
	got := n / d.block
	if got == 0 {
		return 0, io.EOF
	}
	size := d.format.BitsPerSample / 8
	channels := d.format.Channels
	scale := 1 / float32(channels)
	raw := d.raw[:got*d.block]
	for i := range got {
		var sum float32
		for c := range channels {
			sum += d.sample(raw[(i*channels+c)*size:])
		}
		dst[i] = sum * scale
	}
	return got, nil
}

// sampleDecoder returns the function that decodes one sample of format f.
func sampleDecoder(f Format) func(b []byte) float32 {
	le := binary.LittleEndian
	switch {
	case f.Encoding == ALaw:
		return func(b []byte) float32 { return aLawTable[b[0]] }
	case f.Encoding == MuLaw:
		return func(b []byte) float32 { return muLawTable[b[0]] }
	case f.Encoding == Float && f.BitsPerSample == 32:
		return func(b []byte) float32 { return finite(float64(math.Float32frombits(le.Uint32(b)))) }
	case f.Encoding == Float:
		return func(b []byte) float32 { return finite(math.Float64frombits(le.Uint64(b))) }
	case f.BitsPerSample == 8: // 8-bit PCM is unsigned, centred on 128
		return func(b []byte) float32 { return float32(int(b[0])-128) / 128 }
	case f.BitsPerSample == 16:
		return func(b []byte) float32 { return float32(int16(le.Uint16(b))) / (1 << 15) }
	case f.BitsPerSample == 24:
		return func(b []byte) float32 {
			v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
			return float32(v) / (1 << 23)
		}
	default: // 32-bit PCM
		return func(b []byte) float32 { return float32(float64(int32(le.Uint32(b))) / (1 << 31)) }
	}
}

// finite clamps float samples to [-1, 1] and maps NaN to 0, so a corrupt or over-driven float
// file cannot poison the resampler's history.
func finite(v float64) float32 {
	switch {
	case v != v:
		return 0
	case v > 1:
		return 1
	case v < -1:
		return -1
	}
	return float32(v)
}

// Decode reads a whole WAV stream into memory as mono 16-bit samples at the file's own rate
// (no resampling) and returns them with that rate.
func Decode(r io.Reader) (samples []int16, rate int, err error) {
	return decodeAll(r, "")
}

// ReadAll is Decode for a file: handy in tests to check what a Sink recorded.
func ReadAll(path string) (samples []int16, rate int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("wav: %w", err)
	}
	defer f.Close()
	return decodeAll(bufio.NewReader(f), path)
}

func decodeAll(r io.Reader, name string) ([]int16, int, error) {
	d, err := newDecoder(r, name)
	if err != nil {
		return nil, 0, err
	}
	buf := make([]float32, 4096)
	var out []int16
	for {
		n, err := d.ReadMono(buf)
		for _, f := range buf[:n] {
			out = append(out, floatToInt16(f))
		}
		if errors.Is(err, io.EOF) {
			return out, d.format.SampleRate, nil
		}
		if err != nil {
			return out, d.format.SampleRate, err
		}
	}
}
