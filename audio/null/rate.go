package null

import (
	"fmt"

	"github.com/dialtone/dialtone/audio"
)

var (
	_ audio.RateSetter = (*Source)(nil)
	_ audio.RateSetter = (*Sink)(nil)
)

// SetRate accepts any call rate: silence is silence at every rate, and the frames Read fills
// are whatever length the caller gives.
func (s *Source) SetRate(hz int) error { return checkRate(hz) }

// SetRate accepts any call rate: the frames are discarded whatever their length.
func (s *Sink) SetRate(hz int) error { return checkRate(hz) }

func checkRate(hz int) error {
	if hz <= 0 {
		return fmt.Errorf("null audio: invalid rate %d Hz", hz)
	}
	return nil
}
