package wav

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/dialtone/dialtone/audio"
)

var _ audio.Source = (*Source)(nil)

// Source plays a WAV file as call audio: mono 16-bit frames at 8 kHz, or at the call's rate
// once SetRate sets it (source_rate.go), whatever the file's rate, channel count and sample
// format. It streams the file through a small buffer, so any file
// length works in constant memory.
type Source struct {
	dec    *Decoder
	closer io.Closer // the file OpenSource opened; nil for NewSource
	name   string
	rs     *Resampler // nil when the file is already at rate
	rate   int        // the rate of the frames Read gives

	in         []float32 // decoded mono samples at the file's rate
	carry      []float32 // file samples a replaced resampler held unplayed: read before in
	inPos      int
	inLen      int
	fileDone   bool  // the decoder has hit the end; in now feeds the resampler zeros
	consumed   int64 // samples taken from the file
	produced   int64 // samples handed out, at rate
	out        []float32
	finished   bool
	closed     bool
	sourceRate int
}

// OpenSource opens a WAV file for playback.
func OpenSource(path string) (*Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	// 96 KB: six seconds of an 8 kHz file a read. Each read is a system call that wakes the
	// runtime's sysmon thread in a call that otherwise wakes once a frame (wav.fixupSeconds).
	s, err := newSource(bufio.NewReaderSize(f, 96<<10), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	s.closer = f
	return s, nil
}

// NewSource plays a WAV stream from r (an embedded prompt, say). Close does not close r.
func NewSource(r io.Reader) (*Source, error) { return newSource(r, "") }

func newSource(r io.Reader, name string) (*Source, error) {
	dec, err := newDecoder(r, name)
	if err != nil {
		return nil, err
	}
	s := &Source{dec: dec, name: name, in: make([]float32, 1024), out: make([]float32, audio.FrameSamples)}
	s.sourceRate = dec.Format().SampleRate
	if err := s.convertTo(audio.SampleRate); err != nil {
		return nil, err
	}
	return s, nil
}

// Format describes the file being played (before conversion to mono at the call's rate).
func (s *Source) Format() Format { return s.dec.Format() }

// Read fills frame with the next 20 ms. The last, partial frame is padded with silence;
// after it Read returns io.EOF.
func (s *Source) Read(frame []int16) error {
	if s.closed {
		return fmt.Errorf("wav: %s: read from closed source", s.label())
	}
	if s.finished {
		return io.EOF
	}
	if len(frame) == 0 {
		return nil
	}
	if len(s.out) < len(frame) {
		s.out = make([]float32, len(frame))
	}
	filled := 0
	for filled < len(frame) {
		if s.inPos == s.inLen && len(s.carry) == 0 {
			if err := s.refill(); err != nil {
				return err
			}
		}
		src := s.in[s.inPos:s.inLen]
		if len(s.carry) > 0 {
			src = s.carry
		}
		want := len(frame) - filled
		if s.fileDone {
			// After the file ends, produce exactly as many samples as its duration calls for.
			// Never below 0: produced, scaled by a rate change at the file's last frame, can
			// pass the total rounded at the new rate.
			want = int(max(0, min(int64(want), s.total()-s.produced)))
			if want == 0 {
				break
			}
		}
		var c, p int
		if s.rs == nil {
			c = min(want, len(src))
			p = copy(s.out[:c], src[:c])
		} else {
			c, p = s.rs.Process(src, s.out[:want])
		}
		if len(s.carry) > 0 {
			s.carry = s.carry[c:]
		} else {
			s.inPos += c
		}
		for i, f := range s.out[:p] {
			frame[filled+i] = floatToInt16(f)
		}
		filled += p
		s.produced += int64(p)
		if c == 0 && p == 0 {
			// Nothing left to give: the file is done and the resampler that held its last
			// samples is gone (the call went back to the file's own rate), so total cannot be
			// reached. Stopping short by that look-ahead beats spinning here for good.
			break
		}
	}
	if filled == 0 {
		s.finished = true
		return io.EOF
	}
	clear(frame[filled:])
	return nil
}

// refill decodes the next block of the file, or after its end a block of zeros to flush the
// resampler.
func (s *Source) refill() error {
	s.inPos = 0
	if !s.fileDone {
		n, err := s.dec.ReadMono(s.in)
		if err == nil || n > 0 {
			s.inLen = n
			s.consumed += int64(n)
			return nil
		}
		if err != io.EOF {
			s.inLen = 0 // the last block was played: a Read after the error must not replay it
			return err
		}
		s.fileDone = true
		clear(s.in)
	}
	s.inLen = len(s.in)
	if s.rs == nil {
		s.inLen = 0
	}
	return nil
}

// total is the number of samples at rate the whole file amounts to (rounded up).
func (s *Source) total() int64 {
	return (s.consumed*int64(s.rate) + int64(s.sourceRate) - 1) / int64(s.sourceRate)
}

func (s *Source) label() string {
	if s.name == "" {
		return "stream"
	}
	return s.name
}

// Close releases the file. It is safe to call more than once.
func (s *Source) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.closer != nil {
		if err := s.closer.Close(); err != nil {
			return fmt.Errorf("wav: closing %s: %w", s.name, err)
		}
	}
	return nil
}
