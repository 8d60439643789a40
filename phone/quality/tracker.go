package quality

import (
	"math"
	"time"
)

// Sample is one statistics report of a call's receive side: cumulative counters and the
// current figures.
type Sample struct {
	Received uint64 // packets received so far
	Lost     uint64 // frames missing at playout so far: never arrived, or arrived too late
	Late     uint64 // of those, the ones that did arrive (after their playout time)
	Jitter   time.Duration
	RTT      time.Duration // 0 while unknown
	Playout  time.Duration // the jitter buffer's playout delay; 0 if unknown
}

// expected is the packets that should have arrived by s: those received and those that
// never did (RFC 3550's expected count; late packets are among the received).
func (s Sample) expected() uint64 { return s.Received + s.never() }

func (s Sample) never() uint64 { return s.Lost - min(s.Late, s.Lost) }

// minFrames is the smallest window a live estimate is made over: one second of 20 ms frames.
// A shorter one (the report at hang-up, right after a periodic one) is merged with the window
// before it, so one unlucky packet does not swing the figure.
const minFrames = 50

// Tracker turns a call's periodic statistics into live ratings and a summary. Each rating
// covers the packets since the previous report (about 5 s in dialtone), not the whole call,
// so it moves when the network does. Not safe for concurrent use.
//
// The counters are cumulative but not monotonic: the jitter buffer takes back frames it
// counted lost once it learns they were a silence the sender left out (after a hold, with
// DTX). Spans are therefore measured with clamping at zero, and only a fall in the received
// count (a new media session) restarts the windows.
type Tracker struct {
	codec Codec
	frame time.Duration

	base, prevBase Sample // the counters where the current and the previous window start
	last           Rating
	rated          bool
	tailSkipped    bool   // the last report was skipped: the span since base is not audio
	latest         Sample // the last report

	// Summary: committed windows (at least minFrames) only, MOS weighted by their frames.
	mosMin, mosWeighted, frames float64
	windows                     int
	sumLost, sumExpected        float64 // over committed windows, for the call's loss
	jitterMax                   time.Duration
	rttSum                      time.Duration
	rttN                        int
}

// NewTracker rates a call with codec c sending frames of the given duration (20 ms if 0).
func NewTracker(c Codec, frame time.Duration) *Tracker {
	return &Tracker{codec: c, frame: frame}
}

// SetCodec changes the codec, e.g. after a re-INVITE; windows from now on use it.
func (t *Tracker) SetCodec(c Codec) { t.codec = c }

// SetFrame changes the far end's packet duration (it sends 30 ms packets, say): its
// packetisation is part of the delay; windows from now on use it. 0 is ignored.
func (t *Tracker) SetFrame(d time.Duration) {
	if d > 0 {
		t.frame = d
	}
}

// span is the frames lost and expected between two reports, never negative.
func span(from, to Sample) (lost, expected float64) {
	lost = math.Max(0, float64(to.Lost)-float64(from.Lost))
	expected = math.Max(0, float64(to.expected())-float64(from.expected()))
	return lost, expected
}

// note takes what every report carries into the summary.
func (t *Tracker) note(s Sample) {
	t.latest = s
	t.jitterMax = max(t.jitterMax, s.Jitter)
	if s.RTT > 0 {
		t.rttSum += s.RTT
		t.rttN++
	}
	if s.Received < t.base.Received { // a new media session: its counters start at zero
		t.base, t.prevBase = Sample{}, Sample{}
	}
}

// Add takes the next report and returns the rating of the window it closes; ok is false
// while no packet was expected yet (nothing to rate).
func (t *Tracker) Add(s Sample) (r Rating, ok bool) {
	t.note(s)
	t.tailSkipped = false
	from, commit := t.base, true
	if _, n := span(t.base, s); n < minFrames {
		commit = false
		if t.rated {
			from = t.prevBase // merge with the previous window
		}
		if _, n := span(from, s); n == 0 {
			return t.last, t.rated // nothing expected since: not started, or paused
		}
	}
	r = t.rate(from, s)
	t.last, t.rated = r, true
	if commit {
		lost, n := span(from, s)
		if t.windows == 0 || r.MOS < t.mosMin {
			t.mosMin = r.MOS
		}
		t.mosWeighted += r.MOS * n
		t.frames += n
		t.sumLost += lost
		t.sumExpected += n
		t.windows++
		t.prevBase, t.base = t.base, s
	}
	return r, true
}

// Skip takes a report without rating it: the window it closes held no audio by design (the
// call was on hold, where the jitter buffer counts the end of the stream as missing frames),
// so it is neither a rating nor part of the summary. The next window starts here; the last
// rating stands and is returned (ok false if there is none).
func (t *Tracker) Skip(s Sample) (last Rating, ok bool) {
	t.note(s)
	t.tailSkipped = true
	t.base, t.prevBase = s, s
	return t.last, t.rated
}

// rate is the E-model over the packets between two reports.
func (t *Tracker) rate(from, to Sample) Rating {
	lost, expected := span(from, to)
	loss := 0.0
	if expected > 0 {
		loss = 100 * math.Min(1, lost/expected)
	}
	d := OneWayDelay(to.RTT, to.Playout, to.Jitter, t.frame, t.codec)
	return Estimate(Input{Codec: t.codec, LossPct: loss, DelayMs: float64(d) / float64(time.Millisecond)})
}

// Summary is a whole call's quality.
type Summary struct {
	MOSMin, MOSAvg float64       // over the call's windows; the average weighted by packets
	LossPct        float64       // frames lost at playout over those expected, skipped windows left out
	JitterMax      time.Duration // the highest interarrival jitter reported
	RTT            time.Duration // mean of the round trips RTCP measured; 0 if none
}

// Summary returns the call's summary; ok is false when nothing was ever rated (no media).
// The loss takes in the tail after the last full window (the report at hang-up), unless
// that was skipped.
func (t *Tracker) Summary() (s Summary, ok bool) {
	if !t.rated {
		return Summary{}, false
	}
	s.MOSMin, s.MOSAvg = t.last.MOS, t.last.MOS // a call shorter than one window: its only rating
	if t.windows > 0 {
		s.MOSMin, s.MOSAvg = t.mosMin, t.mosWeighted/t.frames
		if t.last.MOS < s.MOSMin { // a short last window that rated worse still counts as seen
			s.MOSMin = t.last.MOS
		}
	}
	lost, expected := t.sumLost, t.sumExpected
	if !t.tailSkipped {
		l, e := span(t.base, t.latest)
		lost, expected = lost+l, expected+e
	}
	if expected > 0 {
		s.LossPct = 100 * math.Min(1, lost/expected)
	}
	s.JitterMax = t.jitterMax
	if t.rttN > 0 {
		s.RTT = t.rttSum / time.Duration(t.rttN)
	}
	return s, true
}
