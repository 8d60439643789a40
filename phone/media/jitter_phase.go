package media

import "time"

// Playout happens on the pacer's ticks, and a packet is read only at a tick, so a frame can
// start no earlier than the first tick after its packet arrived: where the ticks fall against
// the arrivals (the phase) adds 0–20 ms to whatever delay the buffer wants, 10 ms on average.
// Playing from part-way through a frame (a sample ring, an offset within it) cannot win that
// back: the frame's first sample still needs its packet at the tick that writes it, so an
// offset only ever delays the stream further. What can: moving the tick. PhaseSlack says by
// how much the session's ticks could come earlier and still find every packet the floor
// protects; the shared pacer acts on it where a time shift is inaudible (a concealed or silent
// frame, receiver.phaseShift), less a margin: pacer_move.go.

// noteSlack keeps what PhaseSlack needs besides the cursor, which it reads where this Pop
// leaves it. It is asked rarely (after concealment), so the work waits until then.
func (j *JitterBuffer) noteSlack(now time.Time, floor time.Duration) {
	j.lastPop, j.lastFloor = now, floor
}

// PhaseSlack is how much earlier than a frame after the last Pop (less than a frame) the
// next tick could fall and still wait the floor delay for the slowest packets recent history
// has: the next tick's level (with the cursor where the last Pop left it) above the floor.
// 0 while not playing. The last Pop's status tells whether a shift now is inaudible: Missing
// or Inserted (concealment), Buffering (silence).
func (j *JitterBuffer) PhaseSlack() time.Duration {
	if !j.playing {
		return 0
	}
	return min(max(j.rawLevel(j.lastPop.Add(j.frame))-j.lastFloor, 0), j.frame-1)
}
