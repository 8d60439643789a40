package media

import "time"

// The playout side of the jitter buffer: when to start, grow (insert a concealed frame),
// shrink (drop a cheap frame) and what to play each tick.

// Pop returns what to play for the tick at now. Call it once per FrameDuration.
func (j *JitterBuffer) Pop(now time.Time) ([]byte, PopStatus) {
	if !j.playing && !j.tryStart(now) {
		j.stats.Idle++
		return nil, Buffering
	}
	raw := j.rawLevel(now)
	j.level += (raw - j.level) >> levelShift
	target := j.target()
	if raw-target > j.maxDelay() {
		j.level = raw // a backlog this size is a fact, not ticker noise to smooth
	}
	floor := j.floorDelay(target)
	j.noteSlack(now, floor)
	if j.shouldGrow(target) {
		return nil, j.insert(now)
	}
	j.shrink(now, target, floor)
	return j.playNext()
}

// tryStart begins playout once the oldest packet has waited the target delay.
func (j *JitterBuffer) tryStart(now time.Time) bool {
	if j.count == 0 {
		return false
	}
	l := j.rawLevel(now)
	start := j.target()
	if j.peakPolicy() {
		start = j.floorDelay(start)
	}
	if l < start {
		return false
	}
	j.playing = true
	j.level = l
	j.emptyRun = 0
	j.sinceInsert = insertSpacing
	j.lastChange = now
	j.due = false
	return true
}

// rawLevel is how long the fastest packets wait if the cursor's slot plays now.
func (j *JitterBuffer) rawLevel(now time.Time) time.Duration {
	return now.Sub(j.epoch) - time.Duration(j.cur)*j.frame - j.base
}

// maxDelay is the largest target, in whole frames.
func (j *JitterBuffer) maxDelay() time.Duration { return time.Duration(j.maxFrames) * j.frame }

// target is the playout delay the buffer steers towards, in whole frames.
func (j *JitterBuffer) target() time.Duration {
	frames := min(max(ceilDiv(j.needed(), j.frame), j.minFrames), j.maxFrames)
	return time.Duration(frames) * j.frame
}

// floorDelay is the least level (how long the fastest packets wait) that plays on time the
// packets the network is seen to delay the most (needed): needed itself, not rounded up to
// whole frames, since the tick phase already puts the level anywhere within a frame. With
// PolicyPeak, MinDelay counts the frame's own playout, so the configured floor is a wait of
// MinDelay-FrameDuration (never below minWait): on a clean network a packet plays at the
// first tick after it arrives, not a whole frame later.
// With PolicyJitterMultiple it is the target, in whole frames.
func (j *JitterBuffer) floorDelay(target time.Duration) time.Duration {
	if !j.peakPolicy() {
		return target
	}
	least := max(time.Duration(j.minFrames-1)*j.frame, minWait)
	return min(max(j.needed(), least), j.maxDelay())
}

// needed is the delay beyond the fastest packets that the network calls for: the larger
// of the jitter-based need and the peak delay recent packets actually had.
func (j *JitterBuffer) needed() time.Duration { return max(j.need, j.peakDelay()) }

func (j *JitterBuffer) shouldGrow(target time.Duration) bool {
	floor := j.floorDelay(target)
	if !j.peakPolicy() {
		floor -= j.tolerance
	}
	if j.level >= floor {
		return false
	}
	return j.sinceInsert >= insertSpacing || !j.holds(j.cur)
}

// insert holds the cursor for one tick, adding a frame of delay.
func (j *JitterBuffer) insert(now time.Time) PopStatus {
	j.level += j.frame
	j.sinceInsert = 0
	j.lastChange = now
	j.due = false
	j.stats.Inserted++
	return Inserted
}

// shrink drops frames while the level is above target (see the policy at the top).
func (j *JitterBuffer) shrink(now time.Time, target, floor time.Duration) {
	if j.level-target > j.maxDelay() {
		j.catchUp(now, target)
		return
	}
	// PolicyPeak's floor is a measured maximum, not rounded up to frames, and its level
	// follows the base at once, so an eighth of the tolerance above a frame of surplus is
	// hysteresis enough; more would keep the level a frame up whenever the tick phase puts
	// it just above the floor.
	margin := j.frame + j.tolerance
	if j.peakPolicy() {
		margin = j.frame + j.tolerance/8
	}
	for {
		surplus := j.level - floor
		if surplus >= j.frame && j.count > 0 && !j.holds(j.cur) && j.isSilenceGap() {
			j.skip() // the sender sent nothing here: free, as long as the target stays met
			continue
		}
		if surplus < margin {
			break
		}
		if now.Sub(j.lastChange) < shrinkHold {
			break
		}
		// The wait for a silent frame starts once a shrink is allowed.
		if !j.due {
			j.due, j.dueSince = true, now
		}
		// An empty queue means the next packet is already due: dropping its slot would
		// turn the gap it may be (a silence the sender left out) into concealment.
		if j.peakPolicy() && j.count == 0 || !j.cheapToDrop(now) {
			return
		}
		j.skip()
		j.lastChange = now
		break
	}
	j.due = false
}

// catchUp drops a backlog no jitter could justify (the burst after a network stall, a
// ticker that stopped): shrinking it a frame every 2 s would play stale audio for minutes.
func (j *JitterBuffer) catchUp(now time.Time, target time.Duration) {
	for j.count > 0 && j.level-target >= j.frame+j.tolerance {
		j.skip()
	}
	j.lastChange = now
	j.due = false
}

// cheapToDrop: the cursor's frame is empty or silent, or the shrink waited long enough.
func (j *JitterBuffer) cheapToDrop(now time.Time) bool {
	if !j.holds(j.cur) || now.Sub(j.dueSince) >= shrinkWait {
		return true
	}
	s := &j.slots[j.index(j.cur)]
	return j.cfg.Silent != nil && j.cfg.Silent(s.buf[:s.n])
}

// skip drops the cursor's slot without playing it.
func (j *JitterBuffer) skip() {
	if j.holds(j.cur) {
		s := &j.slots[j.index(j.cur)]
		s.used = false
		j.count--
		j.lastSeq, j.hasLastSeq = s.seq, true
		j.missRun = 0
		j.stats.Discarded++
	}
	j.cur++
	j.level -= j.frame
}

// playNext plays the cursor's slot or reports why it cannot.
func (j *JitterBuffer) playNext() ([]byte, PopStatus) {
	j.sinceInsert++
	if j.holds(j.cur) {
		s := &j.slots[j.index(j.cur)]
		s.used = false
		j.count--
		j.cur++
		j.emptyRun, j.missRun = 0, 0
		j.lastSeq, j.hasLastSeq = s.seq, true
		j.stats.Played++
		return s.buf[:s.n:s.n], Played
	}
	if j.count > 0 {
		j.emptyRun = 0
		gap := j.isSilenceGap()
		j.cur++
		if gap {
			j.stats.Idle++
			return nil, Buffering
		}
		j.stats.Lost++
		j.missRun++
		return nil, Missing
	}
	// Nothing buffered: a loss or a late packet, until the gap is too long to be one.
	j.emptyRun++
	if time.Duration(j.emptyRun)*j.frame > longGap {
		j.stop()
		j.stats.Idle++
		return nil, Buffering
	}
	j.cur++
	j.stats.Lost++
	j.missRun++
	return nil, Missing
}

// stop ends playout after a long underrun; the next packet restarts it with a fresh
// baseline, so a long silence or outage re-sets the delay like a new talkspurt.
func (j *JitterBuffer) stop() {
	j.playing = false
	j.floor, j.hasFloor = j.cur, true
	j.hasBase = false
	j.emptyRun = 0
}

// isSilenceGap: the cursor's slot is empty but the next buffered packet follows the last
// played one in sequence (or only telephone-events and comfort noise came between), so the
// sender skipped these ticks (silence suppression, a digit sent instead of audio).
func (j *JitterBuffer) isSilenceGap() bool {
	if !j.hasLastSeq {
		return false
	}
	for k := j.cur + 1; k <= j.maxK; k++ {
		if j.holds(k) {
			return j.follows(j.slots[j.index(k)].seq)
		}
	}
	return false
}
