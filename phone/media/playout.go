package media

import "time"

// PlayoutDelay is the jitter buffer's current target playout delay: how long a packet waits
// before it is played. The call-quality estimate (phone/quality) counts it in the one-way
// delay; it changes as the buffer adapts to the jitter.
func (s *Session) PlayoutDelay() time.Duration { return s.rx.jitterStats().Delay }
