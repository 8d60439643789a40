package media

// Slot memory. Every slot is a slice of one arena, allocated when the first packet
// arrives and sized to the largest payload seen, rounded up: 64 slots of a 160-byte G.711
// frame take 12 KB, not the 96 KB of 64 MaxPayload-sized slots, and a buffer set up for
// a call that rings but is never answered takes none.

// slotRound is the granularity slot sizes are rounded up to, so payloads that vary by a
// few bytes (a codec with variable frames) do not regrow the arena each time.
const slotRound = 64

// ensureRoom makes every slot hold at least n bytes (n ≤ MaxPayload, checked by Push),
// moving the buffered payloads to a bigger arena if needed. It allocates only when n is
// bigger than every payload before it: at the first packet, and rarely after.
func (j *JitterBuffer) ensureRoom(n int) {
	if n <= j.slotSize && j.slotSize > 0 {
		return
	}
	size := min(max(roundUp(n), slotRound), j.cfg.MaxPayload)
	arena := make([]byte, len(j.slots)*size)
	for i := range j.slots {
		s := &j.slots[i]
		buf := arena[i*size : (i+1)*size : (i+1)*size]
		if s.used {
			copy(buf, s.buf[:s.n])
		}
		s.buf = buf
	}
	j.slotSize = size
}

func roundUp(n int) int { return (n + slotRound - 1) / slotRound * slotRound }
