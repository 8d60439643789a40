package media

import "time"

// A sender that switches what it sends under the same SSRC (a PBX bridging a transfer, moving
// to music on hold, a media server between prompts; Asterisk and FreeSWITCH among them) often
// carries on its sequence numbers but starts its timestamps anew, and marks the first packet
// of the new run (RFC 3550 §5.1: the marker flags a significant event such as a talkspurt's
// start; RFC 3551 §4.1). Taken at their word, timestamps a second ahead leave a second of
// concealment before the new audio plays, and timestamps a second back make every packet
// late until lateResyncAfter: a second lost. Jumps beyond jumpLimit were resynchronised, but
// only after a packet of probation and with the queued audio flushed.
//
// A marked packet that continues the sequence numbers but not the timing is therefore the
// start of a new run of the same stream: it is placed as if its timestamps had gone on with
// the wall clock (its transit the fastest packets'), right after what is queued or played,
// and the packets after it are read relative to it; one from before it that comes late keeps
// the old reading. Nothing queued is lost, nothing is late.
//
// How the timing is judged: against the fastest recent packets (the base), which neither a
// late packet nor a pause moves, so a talkspurt after silence suppression whose timestamps are
// right keeps them. Earlier than the base by more than the slack, no network explains it: the
// timestamps jumped ahead, and the packet is rebased at once. Later than the delay the network
// needs by more than the slack, it may be the network (a Wi-Fi stall, after which a burst
// closes the gap): the packet is held until the next one confirms the new timing (its arrival
// as far after as its timestamp says, within the jitter), else it goes on as it would unmarked.

// markerSeqGap is how far ahead of the highest sequence number a marked packet may be and
// still continue the stream: a few packets lost just before it.
const markerSeqGap = 8

// markerConfirmMin is the least leeway a confirming packet's timing gets (see confirms).
const markerConfirmMin = 10 * time.Millisecond

// rebase is the state of the last rebase: packets numbered before seq are read with the
// reference the timeline had before it.
type rebase struct {
	done      bool
	seq       int64  // the marked packet's unwrapped sequence number
	ref       int64  // tsRef before it
	refRaw    uint32 // tsRefRaw before it
	candidate bool   // cand holds a marked packet that looked late, awaiting confirmation
}

// routeMarked handles p, a packet of the current stream, when the marker logic has to: a
// marked packet that jumped, or the packet after one held for confirmation. It returns false
// when p is to be routed as usual.
func (j *JitterBuffer) routeMarked(p Packet, tsRel int64, r time.Duration) bool {
	if j.rb.candidate {
		held := j.cand.p
		if d := int16(p.Seq - held.Seq); p.SSRC == held.SSRC && d <= 0 {
			// Not the next packet: a copy of the held one, or one from before it that came
			// late. It does not decide; the next one will.
			if d == 0 {
				j.stats.Duplicate++
			} else {
				j.accept(p, tsRel, r)
			}
			return true
		}
		j.rb.candidate, j.cand.held = false, false
		held.Marker = false // placed, or judged: either way not again
		if j.confirms(held, p) {
			j.rebaseOn(held)
		}
		// Rebased, the held packet starts the new run; if not, the network delayed it and
		// it goes on as an unmarked one would. p follows it, read afresh.
		j.route(held)
		j.route(p)
		return true
	}
	if !p.Marker || !j.hasPrev {
		return false
	}
	if d := j.unwrapSeq(p.Seq) - j.seqHi; d < 1 || d > markerSeqGap {
		return false
	}
	slack := j.markerSlack()
	switch {
	case j.hasBase && r < j.base-slack: // ahead of any packet the network ever delivered: the timestamps jumped
		j.dropCandidate()
		j.rebaseOn(p)
		p.Marker = false // placed: the run it starts is the timeline now
		j.route(p)
		return true
	case j.hasBase && r > j.base+j.need+slack,
		// Stopped after a long pause (stop), the playout restarts wherever the next packet's
		// timestamp puts it, unless that is before the floor, where it would be late.
		!j.hasBase && j.hasFloor && !j.playing && floorDiv(tsRel+j.frameSamples/2, j.frameSamples) < j.floor:
		j.dropCandidate()
		j.hold(p)
		j.rb.candidate = true
		return true
	}
	return false
}

// confirms says whether next continues held's new timing: the next few sequence numbers, a
// timestamp ahead, and an arrival as far after held's as the timestamps say, within twice
// the jitter (a burst after a network stall arrives all at once).
func (j *JitterBuffer) confirms(held, next Packet) bool {
	dSeq := int16(next.Seq - held.Seq)
	dTS := int64(int32(next.Timestamp - held.Timestamp))
	if next.SSRC != held.SSRC || dSeq < 1 || dSeq > markerSeqGap || dTS < 0 {
		return false
	}
	drift := next.Arrival.Sub(held.Arrival) - j.mediaTime(dTS)
	return absDur(drift) <= max(2*j.tjitter16/16, markerConfirmMin)
}

// rebaseOn moves the timeline under p, a marked packet that starts a new run of timestamps:
// p's transit becomes the base, no earlier than the tick after what is filed, played or below
// the floor of a stopped playout, and later packets are read relative to it. The caller then
// routes p.
func (j *JitterBuffer) rebaseOn(p Packet) {
	var at int64 // with no base (a stopped playout), the next tick will do
	if j.hasBase {
		want := p.Arrival.Sub(j.epoch) - j.base // the media time at which its transit is the base
		rate := int64(j.cfg.ClockRate)
		at = int64(want/time.Second)*rate + int64(want%time.Second)*rate/int64(time.Second)
	}
	next := (floorDiv(j.tsRef+j.frameSamples/2, j.frameSamples) + 1) * j.frameSamples
	switch {
	case j.playing:
		next = max(next, j.cur*j.frameSamples)
	case j.hasFloor:
		next = max(next, j.floor*j.frameSamples)
	}
	j.rb = rebase{done: true, seq: j.unwrapSeq(p.Seq), ref: j.tsRef, refRaw: j.tsRefRaw}
	j.tsRef, j.tsRefRaw = max(at, next), p.Timestamp
	j.stats.Resyncs++
}

// tsOf is p's place on the timeline: relative to the reference before the last rebase for a
// packet numbered before the one it was made on, which comes late from the old run.
func (j *JitterBuffer) tsOf(p Packet) int64 {
	if j.rb.done {
		if s := j.unwrapSeq(p.Seq); s < j.rb.seq && j.rb.seq-s < seenWindow {
			return j.rb.ref + int64(int32(p.Timestamp-j.rb.refRaw))
		}
	}
	return j.unwrapTS(p.Timestamp)
}

// markerSlack is the largest change of transit a marked packet may show and still be on the
// old timeline: four times the jitter (what the delay is sized by), at least three frames,
// at most MaxDelay (a step beyond that could never be absorbed as jitter).
func (j *JitterBuffer) markerSlack() time.Duration {
	return min(max(jitterGain*j.tjitter16/16, 3*j.frame), j.cfg.MaxDelay)
}
