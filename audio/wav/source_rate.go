package wav

import (
	"fmt"

	"github.com/dialtone/dialtone/audio"
)

var _ audio.RateSetter = (*Source)(nil)

// SetRate makes Read give frames at hz (the call's audio rate), converting the file to it: an
// 8 kHz prompt in a 16 kHz call, a 44.1 kHz song in a 48 kHz one. Called again mid-file (the
// codec changed) it carries on from where the file is, at the new rate.
func (s *Source) SetRate(hz int) error {
	if hz <= 0 || hz > maxRateArg {
		return fmt.Errorf("wav: %s: invalid rate %d Hz", s.label(), hz)
	}
	if s.closed {
		return fmt.Errorf("wav: %s: set rate on closed source", s.label())
	}
	if hz == s.rate {
		return nil
	}
	old := s.rate
	if err := s.convertTo(hz); err != nil {
		return err
	}
	// What was handed out counts at the new rate, so the end still comes after the file's
	// duration (total).
	s.produced = s.produced * int64(hz) / int64(old)
	return nil
}

// Rate is the rate of the frames Read gives.
func (s *Source) Rate() int { return s.rate }

// convertTo sets up the conversion from the file's rate to hz. Before anything was read the
// output lines up with the file (no leading filter delay, no lost tail); later, the filter's
// history restarts, a few milliseconds of it, and the file samples the old resampler had taken
// in but not yet played are played first (carry): it reads up to a block ahead, and a rate
// change mid-file skipped up to 120 ms of it.
func (s *Source) convertTo(hz int) error {
	if s.rs != nil {
		s.carry = append(s.rs.Unplayed(), s.carry...)
	}
	s.rs = nil
	if s.sourceRate != hz {
		rs, err := NewResampler(s.sourceRate, hz)
		if err != nil {
			return fmt.Errorf("wav: %s: %w", s.label(), err)
		}
		if s.consumed == 0 {
			rs.CompensateDelay()
		}
		s.rs = rs
	}
	s.rate = hz
	if n := hz / 50; len(s.out) < n {
		s.out = make([]float32, n) // once, not per frame
	}
	return nil
}
