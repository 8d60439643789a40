package wav

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"

	"github.com/dialtone/dialtone/audio"
)

var _ audio.Sink = (*Sink)(nil)

const (
	headerSize = 44
	// The header is rewritten after fixupSeconds of samples, so a recording whose process is
	// killed is still a valid file missing at most those last seconds. Not every second: each
	// flush and rewrite is a system call the runtime wakes its sysmon thread for, a burst of a
	// few wake-ups in a call whose process otherwise wakes once a frame (docs/BENCHMARKS.md).
	fixupSeconds = 5
	// sinkBuffer holds fixupSeconds of an 8 kHz call, so that it is written once per fixup.
	sinkBuffer = fixupSeconds*2*audio.SampleRate + 4<<10
	// RIFF sizes are 32-bit: the data chunk can hold this many bytes at most.
	maxDataBytes = math.MaxUint32 - (headerSize - 8)
)

// ErrFull is returned by Sink.Write once a recording reaches the 4 GiB limit of the WAV format
// (about 74 hours at 8 kHz).
var ErrFull = errors.New("WAV size limit (4 GiB) reached")

// Sink records call audio to a WAV file: mono 16-bit PCM at the call's rate (8 kHz until
// SetRate says otherwise, sink_rate.go). It is safe for concurrent use (the media loop writes
// while the UI may close it).
type Sink struct {
	mu         sync.Mutex
	maxData    int64 // tests: a limit below the format's (limit)
	path       string
	f          *os.File
	w          *bufio.Writer
	scratch    []byte
	dataBytes  int64
	sinceFixup int
	err        error // first write error; the file is not written after it
	closed     bool
	rate       int        // the rate of the frames Write takes (SetRate)
	fileRate   int        // the rate in the header: rate until the first sample is written
	rs         *Resampler // rate to fileRate, when the call's rate changed after audio was written
	conv       []int16    // rs's output
}

// Create creates (or truncates) the file at path and writes a WAV header to it. A new file is
// private (0600), as the history and the captures are: it holds what someone said on a call.
func Create(path string) (*Sink, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	s := &Sink{path: path, f: f, w: bufio.NewWriterSize(f, sinkBuffer), scratch: make([]byte, 2*audio.FrameSamples),
		rate: audio.SampleRate, fileRate: audio.SampleRate}
	// Sizes start at 0, which readers (ours included) take as "data runs to the end".
	if _, err := s.w.Write(header(0, s.fileRate)); err != nil {
		f.Close()
		return nil, fmt.Errorf("wav: %s: writing header: %w", path, err)
	}
	return s, nil
}

// header returns the 44-byte header of a file holding dataBytes of mono 16-bit PCM at rate Hz.
func header(dataBytes uint32, rate int) []byte {
	h := make([]byte, 0, headerSize)
	le := binary.LittleEndian
	h = append(h, "RIFF"...)
	h = le.AppendUint32(h, dataBytes+headerSize-8)
	h = append(h, "WAVEfmt "...)
	h = le.AppendUint32(h, 16)             // fmt chunk size
	h = le.AppendUint16(h, tagPCM)         // format
	h = le.AppendUint16(h, 1)              // channels
	h = le.AppendUint32(h, uint32(rate))   // sample rate
	h = le.AppendUint32(h, uint32(rate)*2) // byte rate
	h = le.AppendUint16(h, 2)              // block align
	h = le.AppendUint16(h, 16)             // bits per sample
	h = append(h, "data"...)
	return le.AppendUint32(h, dataBytes)
}

// Write appends frame to the recording.
func (s *Sink) Write(frame []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("wav: %s: write to closed sink", s.path)
	}
	if s.err != nil {
		return s.err
	}
	if s.rs != nil {
		frame = s.convert(frame)
	}
	n := 2 * len(frame)
	if s.dataBytes+int64(n) > s.limit() {
		s.err = fmt.Errorf("wav: %s: %w", s.path, ErrFull)
		return s.err
	}
	if cap(s.scratch) < n {
		s.scratch = make([]byte, n)
	}
	b := s.scratch[:n]
	for i, v := range frame {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	if _, err := s.w.Write(b); err != nil {
		s.err = fmt.Errorf("wav: %s: writing: %w", s.path, err)
		return s.err
	}
	s.dataBytes += int64(n)
	s.sinceFixup += len(frame)
	if s.sinceFixup >= fixupSeconds*s.fileRate {
		s.sinceFixup = 0
		if err := s.fixup(); err != nil {
			s.err = err
			return err
		}
	}
	return nil
}

// fixup flushes buffered audio and rewrites the two size fields for what is on disk.
func (s *Sink) fixup() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("wav: %s: writing: %w", s.path, err)
	}
	// The whole header: its rate may have changed too, before the first sample (SetRate).
	if _, err := s.f.WriteAt(header(uint32(s.dataBytes), s.fileRate), 0); err != nil {
		return fmt.Errorf("wav: %s: updating header: %w", s.path, err)
	}
	return nil
}

// limit is how many data bytes the file may hold: the format's, or a test's smaller one.
func (s *Sink) limit() int64 {
	if s.maxData > 0 {
		return s.maxData
	}
	return maxDataBytes
}

// Close finishes the header and closes the file. It is safe to call more than once; only the
// first call does anything.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.fixup() // also after ErrFull: what was written is a valid recording
	switch {
	case s.err != nil && !errors.Is(s.err, ErrFull):
		err = s.err
	case s.err != nil && err == nil:
		// Said at the end, as a failed write would be: the call went on, its recording did not.
		secs := s.dataBytes / 2 / int64(s.fileRate)
		err = fmt.Errorf("wav: %s: recording cut after %d:%02d:%02d: %w (the file holds everything until then)",
			s.path, secs/3600, secs/60%60, secs%60, ErrFull)
	}
	if cerr := s.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("wav: %s: closing: %w", s.path, cerr)
	}
	return err
}
