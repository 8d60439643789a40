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
// A marked packet that continues the sequence but not the timing is therefore the start of a
// new run of the same stream: it is placed as if its timestamps had gone on with the wall
// clock (its transit the last packet's), right after what is queued, and the packets after
// it are read relative to it. Nothing queued is lost, nothing is late. A talkspurt after
// silence suppression keeps its timing (its transit matches) and is not touched.

// markerSeqGap is how far ahead of the highest sequence number a marked packet may be and
// still continue the stream: a few packets lost just before it.
const markerSeqGap = 8

// rebaseMarked moves the timeline under p when p is a marked packet that continues the
// sequence numbers of the current stream while its transit (r, for the timestamp tsRel)
// jumped by more than jitter could explain. It returns p's place on the timeline and its
// transit there.
func (j *JitterBuffer) rebaseMarked(p Packet, tsRel int64, r time.Duration) (int64, time.Duration) {
	if !p.Marker || !j.hasPrev {
		return tsRel, r
	}
	if d := j.unwrapSeq(p.Seq) - j.seqHi; d < 1 || d > markerSeqGap {
		return tsRel, r
	}
	if absDur(r-j.prevTransit) <= j.markerSlack() {
		return tsRel, r
	}
	// Where its transit would be the last packet's: the media time of its arrival.
	want := p.Arrival.Sub(j.epoch) - j.prevTransit
	rate := int64(j.cfg.ClockRate)
	at := int64(want/time.Second)*rate + int64(want%time.Second)*rate/int64(time.Second)
	// Never on or before a tick already filed or played: it follows them.
	next := (floorDiv(j.tsRef+j.frameSamples/2, j.frameSamples) + 1) * j.frameSamples
	if j.playing {
		next = max(next, j.cur*j.frameSamples)
	}
	at = max(at, next)
	j.tsRef, j.tsRefRaw = at, p.Timestamp
	j.stats.Resyncs++
	return at, j.transit(p.Arrival, at)
}

// markerSlack is the largest change of transit a marked packet may show and still be on the
// old timeline: four times the jitter (what the delay is sized by), at least three frames,
// at most MaxDelay (a step beyond that could never be absorbed as jitter).
func (j *JitterBuffer) markerSlack() time.Duration {
	return min(max(jitterGain*j.tjitter16/16, 3*j.frame), j.cfg.MaxDelay)
}
