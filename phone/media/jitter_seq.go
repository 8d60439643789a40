package media

import "time"

// Sequence number and timestamp arithmetic (wrap-around), and media time.

func (j *JitterBuffer) unwrapSeq(s uint16) int64 {
	return j.seqHi + int64(int16(s-uint16(j.seqHi)))
}

func (j *JitterBuffer) unwrapTS(ts uint32) int64 {
	return j.tsRef + int64(int32(ts-j.tsRefRaw))
}

// isSeen reports whether seq was already buffered, played or counted late.
func (j *JitterBuffer) isSeen(seq int64) bool {
	if seq > j.seqHi || j.seqHi-seq >= seenWindow {
		return false
	}
	b := uint64(seq) % seenWindow
	return j.seen[b/64]&(1<<(b%64)) != 0
}

func (j *JitterBuffer) markSeen(seq int64) {
	if seq > j.seqHi {
		if seq-j.seqHi >= seenWindow {
			j.seen = [seenWindow / 64]uint64{}
			j.other = [seenWindow / 64]uint64{}
		} else {
			for s := j.seqHi + 1; s <= seq; s++ {
				b := uint64(s) % seenWindow
				j.seen[b/64] &^= 1 << (b % 64)
				j.other[b/64] &^= 1 << (b % 64)
			}
		}
		j.seqHi = seq
	}
	if j.seqHi-seq < seenWindow {
		b := uint64(seq) % seenWindow
		j.seen[b/64] |= 1 << (b % 64)
	}
}

// NoteOther tells the buffer that sequence number seq of stream ssrc carried no audio: a
// telephone-event or comfort noise, which take sequence numbers from the audio's (RFC 4733
// §2.1, RFC 3389). The audio after them then follows the last audio played, and the ticks
// they stood for are the sender's silence, not a loss (follows).
func (j *JitterBuffer) NoteOther(seq uint16, ssrc uint32) {
	if !j.started || ssrc != j.ssrc {
		return
	}
	s := j.unwrapSeq(seq)
	j.markSeen(s)
	if j.seqHi-s < seenWindow {
		b := uint64(s) % seenWindow
		j.other[b/64] |= 1 << (b % 64)
	}
}

// follows says whether audio packet seq is the next after the last one played or skipped:
// nothing but packets without audio (NoteOther) came between.
func (j *JitterBuffer) follows(seq int64) bool {
	if !j.hasLastSeq || seq <= j.lastSeq || seq-j.lastSeq > seenWindow/2 {
		return false
	}
	for s := j.lastSeq + 1; s < seq; s++ {
		if s > j.seqHi || j.seqHi-s >= seenWindow {
			return false
		}
		if b := uint64(s) % seenWindow; j.other[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

func (j *JitterBuffer) index(k int64) int {
	n := int64(len(j.slots))
	return int(((k % n) + n) % n)
}

// transit is RFC 3550's relative transit time: arrival minus the media time.
func (j *JitterBuffer) transit(arrival time.Time, tsRel int64) time.Duration {
	return arrival.Sub(j.epoch) - j.mediaTime(tsRel)
}

// mediaTime converts timestamp units to time without overflowing for any int64.
func (j *JitterBuffer) mediaTime(ts int64) time.Duration {
	rate := int64(j.cfg.ClockRate)
	return time.Duration(ts/rate)*time.Second + time.Duration(ts%rate*int64(time.Second)/rate)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func ceilDiv(d, unit time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + unit - 1) / unit)
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
