package main

// TrimQueued passes the media session's trim through the call-waiting beep to the speaker
// underneath (phone/media/pacer_move.go: when the session's ticks move earlier, the audio the
// device has queued is cut by as much, or the move would not make the call sound sooner).
func (s *waitingSink) TrimQueued(samples int) int {
	if q, ok := s.Sink.(interface{ TrimQueued(int) int }); ok {
		return q.TrimQueued(samples)
	}
	return 0
}
