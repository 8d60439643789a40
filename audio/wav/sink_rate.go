package wav

import (
	"fmt"

	"github.com/dialtone/dialtone/audio"
)

var _ audio.RateSetter = (*Sink)(nil)

// SetRate makes Write take frames at hz (the call's audio rate: 16 kHz for G.722, 48 kHz for
// Opus). Before the first sample is written the file itself is at hz: its header says so. A
// file that already holds audio keeps its rate: later frames are resampled to it, since a WAV
// file has one rate and switching would corrupt the recording's timing and pitch.
func (s *Sink) SetRate(hz int) error {
	if hz <= 0 || hz > maxRateArg {
		return fmt.Errorf("wav: %s: invalid rate %d Hz", s.path, hz)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("wav: %s: set rate on closed sink", s.path)
	}
	if hz == s.rate {
		return nil
	}
	if s.dataBytes == 0 {
		s.rate, s.fileRate, s.rs = hz, hz, nil
		if err := s.fixup(); err != nil {
			s.err = err
			return err
		}
		return nil
	}
	if hz == s.fileRate {
		s.rate, s.rs = hz, nil
		return nil
	}
	rs, err := NewResampler(hz, s.fileRate)
	if err != nil {
		return fmt.Errorf("wav: %s: %w", s.path, err)
	}
	s.rate, s.rs = hz, rs
	return nil
}

// Rate is the rate of the file being written (its header's).
func (s *Sink) Rate() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fileRate
}

// convert resamples a frame at the call's rate to the file's. Its buffer grows to the largest
// frame once, so steady writes allocate nothing. The caller holds s.mu.
func (s *Sink) convert(frame []int16) []int16 {
	want := len(frame)*s.fileRate/s.rate + 2
	if cap(s.conv) < want {
		s.conv = make([]int16, want)
	}
	_, n := s.rs.ProcessInt16(frame, s.conv[:want])
	return s.conv[:n]
}
