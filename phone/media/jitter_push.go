package media

import "time"

// The receive side of the jitter buffer: filing packets by timestamp, detecting new streams,
// late and duplicate packets, and tracking transit-time jitter.

// Push files one received packet, copying its payload; p.Payload may be reused at once.
//
// Where the packet goes:
//   - payload over MaxPayload: Dropped.
//   - another SSRC, or a transit time (arrival minus media time) more than jumpLimit
//     (2 s) away from the previous packet's: a possible new timeline. It is held on
//     probation; if the next packet continues it (same SSRC, the next few sequence
//     numbers, consistent timing) the buffer resynchronises: flush (Discarded), restart
//     the playout clock from the held packet, count Resyncs. If the current stream goes
//     on instead, the stray is Dropped. A long pause (silence suppression, hold) keeps
//     the transit and so is not a jump.
//   - sequence number already buffered, played or late, or the same tick already
//     filled: Duplicate.
//   - its tick already played: Late (and the delay grows). When every packet has been
//     late for lateResyncAfter (1 s) the sender's timestamps went back less than 2 s:
//     resynchronise on it.
//   - more than Capacity ticks ahead of the oldest queued: the oldest are evicted
//     (Dropped) to make room, since the newest audio is what should play.
//   - otherwise it waits in its slot.
func (j *JitterBuffer) Push(p Packet) {
	j.stats.Received++
	if len(p.Payload) > j.cfg.MaxPayload {
		j.stats.Dropped++
		return
	}
	if !j.started {
		j.startStream(p)
		return
	}
	j.route(p)
}

// route sends p to the current timeline, or to probation when it does not fit it.
func (j *JitterBuffer) route(p Packet) {
	if p.SSRC != j.ssrc {
		j.probe(p)
		return
	}
	tsRel := j.tsOf(p)
	r := j.transit(p.Arrival, tsRel)
	if j.routeMarked(p, tsRel, r) { // a new run of the same stream (jitter_marker.go)
		return
	}
	if j.hasPrev && absDur(r-j.prevTransit) > jumpLimit {
		j.probe(p)
		return
	}
	// A packet of the current timeline shows it is alive: a pending stray was noise.
	j.dropCandidate()
	j.accept(p, tsRel, r)
}

// probe holds p as a candidate new timeline, or resynchronises if p continues the one
// already held.
func (j *JitterBuffer) probe(p Packet) {
	if j.cand.held && j.continuesCandidate(p) {
		j.stats.Resyncs++
		j.flush()
		first := j.cand.p
		j.cand.held = false
		j.startStream(first)
		j.route(p)
		return
	}
	j.dropCandidate()
	j.hold(p)
}

// hold keeps a copy of p as the candidate.
func (j *JitterBuffer) hold(p Packet) {
	if cap(j.cand.buf) < len(p.Payload) {
		j.cand.buf = make([]byte, roundUp(len(p.Payload)))
	}
	n := copy(j.cand.buf[:cap(j.cand.buf)], p.Payload)
	j.cand.p = p
	j.cand.p.Payload = j.cand.buf[:n:n]
	j.cand.held = true
}

// continuesCandidate: same source, the next few sequence numbers, a timestamp a little
// ahead, and a transit consistent with the candidate's.
func (j *JitterBuffer) continuesCandidate(p Packet) bool {
	c := &j.cand.p
	if p.SSRC != c.SSRC {
		return false
	}
	dSeq := int16(p.Seq - c.Seq)
	dTS := int64(int32(p.Timestamp - c.Timestamp))
	if dSeq < 1 || dSeq > 8 || dTS < 0 {
		return false
	}
	drift := p.Arrival.Sub(c.Arrival) - j.mediaTime(dTS)
	return absDur(drift) <= jumpLimit
}

func (j *JitterBuffer) dropCandidate() {
	if j.cand.held {
		j.cand.held = false
		j.stats.Dropped++
	}
	j.rb.candidate = false
}

// startStream makes p the first packet of a new timeline: media time 0 at its arrival.
// Network estimates (jitter, need) survive: the path is usually the same.
func (j *JitterBuffer) startStream(p Packet) {
	j.started = true
	j.ssrc = p.SSRC
	j.epoch = p.Arrival
	j.tsRef, j.tsRefRaw = 0, p.Timestamp
	j.rb = rebase{}
	j.seqHi = int64(p.Seq)
	j.seen = [seenWindow / 64]uint64{}
	j.other = [seenWindow / 64]uint64{}
	j.hasPrev, j.hasBase, j.lateRun = false, false, false
	j.peak = peakWindow{} // transits of the old timeline mean nothing on the new one
	j.playing, j.hasFloor, j.hasLastSeq = false, false, false
	j.emptyRun, j.missRun = 0, 0
	j.accept(p, 0, 0)
}

// flush discards everything queued.
func (j *JitterBuffer) flush() {
	for i := range j.slots {
		if j.slots[i].used {
			j.slots[i].used = false
			j.stats.Discarded++
		}
	}
	j.count = 0
}

// accept places a packet of the current timeline, or counts why it cannot be played.
func (j *JitterBuffer) accept(p Packet, tsRel int64, r time.Duration) {
	seq := j.unwrapSeq(p.Seq)
	k := floorDiv(tsRel+j.frameSamples/2, j.frameSamples)
	if j.isSeen(seq) || j.holds(k) {
		j.stats.Duplicate++
		return
	}
	late := j.isLate(k)
	if late && !j.lateRun {
		j.lateRun, j.lateRunStart = true, p.Arrival
		j.preLateNeed, j.preLateJitter16, j.preLateTJitter16 = j.need, j.jitter16, j.tjitter16
		j.preLatePeak = j.peak
	}
	j.observe(p.Arrival, r)
	if late {
		j.onLate(p, r, seq)
		return
	}
	j.lateRun = false
	if !j.makeRoom(k) {
		j.stats.Dropped++
		return
	}
	if j.missRun > 0 && j.follows(seq) {
		// The packet right after the last one played is on time, so the ticks since then
		// that played as Missing were a silence the sender left out, not a loss: with
		// nothing buffered a low delay cannot tell the two apart until now.
		j.stats.Lost -= uint64(j.missRun)
		j.stats.Idle += uint64(j.missRun)
	}
	j.missRun = 0
	j.store(k, seq, p.Payload)
	if tsRel > j.tsRef {
		j.tsRef, j.tsRefRaw = tsRel, p.Timestamp
	}
}

// onLate counts a packet whose tick has passed and raises the delay the network needs.
// If every packet has been late for a second, the sender's timeline moved backwards
// (a timestamp reset within jumpLimit): restart on it instead of dropping forever.
func (j *JitterBuffer) onLate(p Packet, r time.Duration, seq int64) {
	if p.Arrival.Sub(j.lateRunStart) >= lateResyncAfter {
		// The lateness was the timeline moving, not the network: forget what it taught.
		j.need, j.jitter16, j.tjitter16 = j.preLateNeed, j.preLateJitter16, j.preLateTJitter16
		j.peak = j.preLatePeak
		j.stats.Resyncs++
		j.flush()
		j.startStream(p)
		return
	}
	j.stats.Late++
	j.markSeen(seq)
	if j.hasBase {
		// Grow by what would have saved it, but by at most one frame past the current
		// level per tick: a lone spike (a stall and its burst) must not send the delay to
		// MaxDelay for the next minute, while lateness that goes on keeps growing it.
		j.need = max(j.need, min(r-j.base, j.level+j.frame)+j.tolerance)
	}
}

// isLate: the packet's tick was already played (or skipped).
func (j *JitterBuffer) isLate(k int64) bool {
	if j.playing {
		return k < j.cur
	}
	return j.hasFloor && k < j.floor
}

// holds reports whether slot k is already filled (same timestamp, another sequence).
func (j *JitterBuffer) holds(k int64) bool {
	s := &j.slots[j.index(k)]
	return s.used && s.k == k
}

// makeRoom keeps the queue within Capacity ticks. A packet beyond the window evicts the
// oldest ones: its arrival proves the real time moved on, and old audio only adds delay.
func (j *JitterBuffer) makeRoom(k int64) bool {
	if j.count == 0 {
		if !j.playing {
			j.cur = k // (re)anchor: first packet, or the first after an underrun
		}
		if k-j.cur >= int64(len(j.slots)) {
			j.advance(k - int64(len(j.slots)) + 1)
		}
		return true
	}
	if k < j.cur {
		// Only while buffering can the queue extend backwards (reordered start).
		if j.playing || j.maxK-k >= int64(len(j.slots)) {
			return false
		}
		j.cur = k
		return true
	}
	if k-j.cur >= int64(len(j.slots)) {
		j.advance(k - int64(len(j.slots)) + 1)
	}
	return true
}

// advance moves the window start to newCur, evicting what lies before it.
func (j *JitterBuffer) advance(newCur int64) {
	n := newCur - j.cur
	for i := int64(0); i < n && j.count > 0 && i < int64(len(j.slots)); i++ {
		s := &j.slots[j.index(j.cur+i)]
		if s.used && s.k == j.cur+i {
			s.used = false
			j.count--
			j.stats.Dropped++
		}
	}
	if j.playing {
		j.level -= time.Duration(n) * j.frame
	}
	j.cur = newCur
	if !j.playing {
		j.cur = j.lowestFrom(newCur)
	}
}

// lowestFrom is the first filled slot at or after k (k itself if none).
func (j *JitterBuffer) lowestFrom(k int64) int64 {
	if j.count == 0 {
		return k
	}
	for i := k; i <= j.maxK; i++ {
		if j.holds(i) {
			return i
		}
	}
	return k
}

func (j *JitterBuffer) store(k, seq int64, payload []byte) {
	j.ensureRoom(len(payload))
	s := &j.slots[j.index(k)]
	s.k, s.seq, s.used = k, seq, true
	s.n = copy(s.buf, payload)
	if j.count == 0 || k > j.maxK {
		j.maxK = k
	}
	j.count++
	j.markSeen(seq)
}

// observe feeds a packet's transit to the jitter estimator, the need peak follower and
// the baseline of the fastest packets.
func (j *JitterBuffer) observe(arrival time.Time, r time.Duration) {
	if j.hasPrev {
		// RFC 3550 A.8: J += (|D| - J) / 16, kept scaled by 16 for integer precision.
		d := absDur(r - j.prevTransit)
		j.jitter16 += d - (j.jitter16+8)/16
		// A step beyond MaxDelay could never be absorbed; clipping it keeps one stall
		// from dominating the target.
		j.tjitter16 += min(d, j.cfg.MaxDelay) - (j.tjitter16+8)/16
	}
	j.prevTransit, j.hasPrev = r, true
	if j.peakPolicy() {
		// Here need is only what late packets called for; the window (jitter_peak.go)
		// carries steady jitter, so need can let go of a lone stall in about a second.
		j.need -= j.need >> peakNeedDecayShift
	} else {
		j.need -= j.need >> needDecayShift
	}
	if !j.peakPolicy() {
		// PolicyPeak steers by the delays packets really had (jitter_peak.go); the RFC 3550
		// jitter, a mean that swings by half itself, would only put noise into its floor.
		j.need = max(j.need, jitterGain*j.tjitter16/16)
	}
	if j.peakPolicy() && j.hasBase && j.playing {
		// The delay this packet needed beyond the fastest: the window's largest is the
		// level that plays every recent packet on time. Clipped to a frame past the level
		// like a late packet's, so one stalled packet cannot raise it far at once.
		j.peak.add(min(r, j.base+j.level+j.frame))
	}
	j.updateBase(arrival, r)
}

// updateBase tracks the lowest transit. It follows a faster packet at once and rises
// only slowly, so it stays the fastest packets' transit while jitter comes and goes,
// yet follows clock drift between sender and receiver.
func (j *JitterBuffer) updateBase(arrival time.Time, r time.Duration) {
	if !j.hasBase {
		j.base, j.baseAt, j.hasBase = r, arrival, true
		return
	}
	old := j.base
	if dt := arrival.Sub(j.baseAt); dt > 0 {
		j.base += dt / (time.Second / baseRisePerSec)
		j.baseAt = arrival
	}
	j.base = min(j.base, r)
	if j.peakPolicy() && j.playing {
		// The level is measured from the base: when the base moves, the level moves with
		// it at once. Smoothing it in over 8 ticks, while the window's delay (also
		// measured from the base) moves at once, would make it look a frame short of the
		// floor for a moment and insert one (a faster packet than any before lowers the
		// base by a millisecond or two, now and then, under steady jitter).
		j.level -= j.base - old
	}
}
