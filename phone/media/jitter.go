// Package media holds the receive side of a call's audio: an adaptive jitter buffer that
// turns RTP packets arriving at irregular times into one frame per playout tick, and G.711
// packet-loss concealment for the frames that never came. Standard library only; nothing
// here reads the wall clock, so tests drive time explicitly.
package media

import "time"

// Packet is one received RTP packet, already parsed. Only audio packets of the call's
// codec belong here: telephone-event (RFC 4733) and comfort-noise packets share the
// stream's timestamps and must be split off before Push. Marker on a packet that continues
// the sequence numbers but jumps in time starts a new run of timestamps (jitter_marker.go);
// talkspurt boundaries are recognised from sequence continuity, which does not depend on the
// sender setting the bit.
type Packet struct {
	Seq       uint16
	Timestamp uint32
	SSRC      uint32
	Marker    bool
	Payload   []byte
	Arrival   time.Time // when the packet was read from the socket (injected clock)
}

// JitterConfig sizes a JitterBuffer. Zero fields take the defaults in parentheses.
type JitterConfig struct {
	// MinDelay is the smallest playout delay, never below one frame (20 ms). PolicyPeak
	// counts it to the end of the frame's playout: with 20 ms a packet plays at the first
	// tick after it arrived (and waited minWait, 2 ms), never a whole frame later.
	// PolicyJitterMultiple counts it to the start: every packet waits at least MinDelay.
	MinDelay time.Duration
	// MaxDelay caps the playout delay however bad the jitter gets (300 ms). It is also
	// capped to what Capacity can hold.
	MaxDelay time.Duration
	// FrameDuration is the playout tick and the audio carried by one packet (20 ms).
	FrameDuration time.Duration
	// ClockRate is the RTP timestamp rate in Hz (8000).
	ClockRate int
	// Capacity is the number of packets the buffer can hold (64).
	Capacity int
	// MaxPayload is the largest payload kept (1500 bytes); bigger packets are dropped.
	MaxPayload int
	// Policy chooses how the playout delay adapts; the zero value is PolicyPeak.
	Policy JitterPolicy
	// Silent, if set, reports whether a payload is silence, so the buffer drops silent
	// frames rather than speech when it shrinks its delay. It must not keep the slice.
	Silent func(payload []byte) bool
}

// JitterPolicy is how the buffer chooses its playout delay.
type JitterPolicy uint8

const (
	// PolicyPeak (the default) steers the wait to the largest delay beyond the fastest
	// that the last 5–6 s of packets had (a sliding maximum: steady under steady jitter,
	// and a stall of the sender is forgotten once it leaves the window), not rounded up
	// to whole frames (late packets raise it at once, as in PolicyJitterMultiple), and
	// counts MinDelay to the end of the frame's playout. Under 0–40 ms of uniform jitter it
	// plays at the first tick after the largest jitter (41–59 ms, depending on the tick
	// phase) where PolicyJitterMultiple plays at 79–93 ms, for the same late loss; on a
	// clean network at the first tick after arrival.
	PolicyPeak JitterPolicy = iota
	// PolicyJitterMultiple is the earlier default, kept for comparison: a target of 4× the
	// RFC 3550 jitter rounded up to whole frames, never below a wait of MinDelay.
	PolicyJitterMultiple
)

// Defaults for a G.711 call with 20 ms packets.
const (
	DefaultMinDelay      = 20 * time.Millisecond
	DefaultMaxDelay      = 300 * time.Millisecond
	DefaultFrameDuration = 20 * time.Millisecond
	DefaultClockRate     = 8000
	DefaultCapacity      = 64
	DefaultMaxPayload    = 1500
)

// Adaptation policy. The playout delay is measured as the time the fastest recent packet
// waits before it is played (the "level"). PolicyJitterMultiple steers it to a target
// from the RFC 3550 jitter, as below; PolicyPeak to a floor instead (floorDelay): the
// larger of what late packets call for (need, as below, without the jitter term) and the
// largest delay beyond the fastest over the last 256–320 packets (jitter_peak.go), not
// rounded to frames, at least MinDelay less one frame and minWait. It grows below the
// floor (no tolerance: the floor is a measured maximum, not an estimate rounded up) and
// shrinks a frame once the level is a frame and a thirty-second above it.
// The tick phase decides where within a frame above the floor the level sits: under
// uniform jitter the added delay averages the largest jitter plus half a frame.
//
//   - target = clamp(ceil(need / frame) frames, MinDelay, MaxDelay), where need is a peak
//     follower of jitterGain × jitter: it rises at once with the jitter and decays with
//     a time constant of 2^needDecayShift packets (about 5 s), so a bursty network does
//     not make the delay oscillate. (The jitter steering it is RFC 3550's with each step
//     clipped to MaxDelay, so one stall does not pin the delay at the maximum.) A late
//     packet raises need towards the delay that would have saved it, by at most a frame
//     past the current level per tick, so the buffer grows on the evidence even before
//     the jitter shows it.
//   - A backlog beyond target+MaxDelay (the burst after a stall) is dropped at once.
//   - Grow fast: when the level falls below target-tolerance, Pop holds the cursor and
//     returns Inserted (the caller conceals). Insertions are spaced one every other tick
//     so concealment stays short, except when the next packet has not arrived anyway.
//   - Shrink slowly: when the level exceeds target+frame+tolerance, at most one frame is
//     dropped per shrinkHold (2 s) after any change. A due shrink waits up to shrinkWait
//     for a frame that costs nothing to drop: an empty slot, or a payload Silent reports
//     as silence; after that it drops the next frame anyway. Gaps the sender left on
//     purpose (sequence numbers contiguous, timestamps jump: silence suppression) are
//     skipped freely whenever the level stays at or above target.
//   - The tolerance band (a quarter frame either side) absorbs ticker jitter, so the
//     level does not flap between two whole-frame delays.
const (
	jitterGain         = 4                      // target delay = jitterGain × RFC 3550 jitter
	needDecayShift     = 8                      // need decays by need/256 per packet
	peakNeedDecayShift = 6                      // PolicyPeak's need: by need/64 (about 1.3 s)
	levelShift         = 3                      // level is smoothed over 8 ticks
	shrinkHold         = 2 * time.Second        // minimum time between delay changes before a shrink
	shrinkWait         = 1 * time.Second        // how long a due shrink waits for a silent frame
	baseRisePerSec     = time.Millisecond       // how fast the transit baseline may rise per second
	longGap            = 500 * time.Millisecond // an empty buffer this long is an underrun, not a loss
	jumpLimit          = 2 * time.Second        // a transit change bigger than this is a new timeline
	lateResyncAfter    = 1 * time.Second        // packets all late for this long mean a new timeline
	seenWindow         = 256                    // sequence numbers remembered for duplicate detection
	insertSpacing      = 2                      // ticks between two insertions while a packet is ready
	// minWait is PolicyPeak's least wait: a packet that arrives just before a tick plays at
	// the next one, so scheduling noise too rare for the peak to have seen yet (the sender's
	// pacer, the reader) does not make it late.
	minWait = 2 * time.Millisecond
)

// PopStatus says what Pop returned for one playout tick.
type PopStatus uint8

const (
	// Buffering: nothing to play and nothing was lost: not started yet, building up the
	// delay after a resync or a long underrun, or a silence the sender left out on purpose.
	// The caller plays silence (or lets its concealment fade out).
	Buffering PopStatus = iota
	// Played: the payload is this tick's frame. It is valid until the next Push or Pop.
	Played
	// Missing: the packet for this tick never arrived (lost, or it will be too late).
	// The caller conceals. Counted in JitterStats.Lost. While nothing at all is buffered
	// a loss cannot be told from the sender going quiet, so the first ticks of a
	// silence-suppression pause (up to longGap, 500 ms) also read as Missing; then the
	// buffer reports an underrun (Buffering) and restarts with the next packet. When that
	// packet turns out to follow the last one played in sequence, those ticks move from
	// Lost to Idle: nothing was lost.
	Missing
	// Inserted: the buffer is growing its delay by one frame; no packet was due. The
	// caller conceals exactly as for Missing. Not a loss.
	Inserted
)

func (s PopStatus) String() string {
	switch s {
	case Buffering:
		return "buffering"
	case Played:
		return "played"
	case Missing:
		return "missing"
	case Inserted:
		return "inserted"
	}
	return "unknown"
}

// JitterStats are cumulative counters since NewJitterBuffer or Reset.
//
// Every pushed packet ends up in exactly one of Played, Late, Duplicate, Dropped,
// Discarded, or is still held (Buffered + Pending):
//
//	Received == Played + Late + Duplicate + Dropped + Discarded + Buffered + Pending
//
// and every Pop is counted once in Played, Lost, Inserted or Idle.
type JitterStats struct {
	Received  uint64 // packets pushed
	Played    uint64 // packets returned by Pop
	Lost      uint64 // ticks that returned Missing, less those later seen to be a silence the sender left out
	Late      uint64 // packets that arrived after their tick had passed
	Duplicate uint64 // packets whose sequence number or timestamp was already buffered or played
	Dropped   uint64 // packets refused or evicted: oversized, overflow, a stray from another timeline
	Discarded uint64 // packets thrown away on purpose: frames dropped to shrink the delay, flushes on resync
	Inserted  uint64 // ticks that returned Inserted (delay growth)
	Idle      uint64 // ticks that returned Buffering
	Resyncs   uint64 // restarts on a new SSRC, a timestamp jump, or a persistently late stream

	Buffered int // packets waiting in the playout queue now (never more than Capacity)
	Pending  int // 1 while a packet from a possible new timeline awaits confirmation

	Jitter time.Duration // RFC 3550 interarrival jitter estimate
	Delay  time.Duration // current target playout delay
	Frame  time.Duration // the audio one packet carries (SetFrameDuration)
}

// slot holds one buffered packet in memory owned by the buffer.
type slot struct {
	k    int64  // playout tick (frame index from the stream's first packet)
	seq  int64  // unwrapped sequence number
	used bool   // holds a packet waiting to be played
	n    int    // payload length
	buf  []byte // slotSize bytes of the shared arena (nil before the first packet)
}

// candidate is a packet that does not fit the current timeline (new SSRC, timestamp
// jump). One stray packet must not flush a healthy stream, so it waits for a second
// packet that continues it before the buffer resynchronises (RFC 3550 probation).
type candidate struct {
	held bool
	p    Packet // p.Payload points into buf
	buf  []byte
}

// JitterBuffer reorders and times one RTP stream for playout. It is not safe for
// concurrent use: the media session owns it and calls Push and Pop from one goroutine
// (or under its own lock).
type JitterBuffer struct {
	asked        JitterConfig // as given, for SetFrameDuration to normalize anew
	cfg          JitterConfig
	frameSamples int64
	frame        time.Duration
	tolerance    time.Duration
	minFrames    int64
	maxFrames    int64

	slots    []slot
	slotSize int // bytes each slot holds: the largest payload seen, rounded up (jitter_mem.go)
	count    int
	cand     candidate
	rb       rebase // the last marked new run of timestamps (jitter_marker.go)

	// Stream identity and unwrapping. tsRef/tsRefRaw is the newest accepted timestamp.
	started  bool
	ssrc     uint32
	epoch    time.Time // arrival of the stream's first packet: media time 0
	tsRef    int64
	tsRefRaw uint32
	seqHi    int64
	seen     [seenWindow / 64]uint64
	// other marks the sequence numbers of the stream that carried no audio (telephone-events,
	// comfort noise: NoteOther), within the same window as seen.
	other [seenWindow / 64]uint64

	// Network estimates, in transit time: arrival - epoch - media time.
	hasPrev      bool
	prevTransit  time.Duration
	jitter16     time.Duration // RFC 3550 jitter scaled by 16 (reported)
	tjitter16    time.Duration // the same with each step clipped to MaxDelay (steers the target)
	need         time.Duration // decaying peak of the delay the network needs
	peak         peakWindow    // PolicyPeak: the largest transit of recent packets
	hasBase      bool
	base         time.Duration // lowest recent transit: the fastest packets
	baseAt       time.Time
	lateRun      bool
	lateRunStart time.Time
	// need and jitter when the current run of late packets began, restored if the run
	// turns out to be a timeline change.
	preLateNeed      time.Duration
	preLateJitter16  time.Duration
	preLateTJitter16 time.Duration
	preLatePeak      peakWindow

	// Playout.
	playing     bool
	cur         int64 // playing: next tick's slot; buffering: lowest buffered slot
	maxK        int64 // highest buffered slot (when count > 0)
	hasFloor    bool
	floor       int64 // buffering after an underrun: slots below this are late
	hasLastSeq  bool
	lastSeq     int64         // sequence number of the last packet played or skipped
	level       time.Duration // smoothed time the fastest packets wait before playout
	emptyRun    int
	missRun     int // ticks played as Missing since the last packet played or skipped
	sinceInsert int
	lastChange  time.Time
	due         bool
	dueSince    time.Time
	lastPop     time.Time // the last Pop's now and floor, for PhaseSlack (jitter_phase.go)
	lastFloor   time.Duration

	stats JitterStats
}

// NewJitterBuffer makes a buffer. Slot memory comes with the first packet, sized to it
// (ensureRoom), so a buffer made for a call that is never answered costs little; after
// that, Push and Pop allocate nothing unless a bigger payload arrives.
func NewJitterBuffer(cfg JitterConfig) *JitterBuffer {
	j := &JitterBuffer{asked: cfg}
	j.size(normalize(cfg))
	j.slots = make([]slot, j.cfg.Capacity)
	return j
}

// size sets what follows from the (normalized) configuration: the frame and its samples, and
// the delays in frames.
func (j *JitterBuffer) size(cfg JitterConfig) {
	j.cfg = cfg
	j.frame = cfg.FrameDuration
	j.tolerance = cfg.FrameDuration / 4
	j.frameSamples = max(1, int64(cfg.ClockRate)*int64(cfg.FrameDuration)/int64(time.Second))
	j.minFrames = ceilDiv(cfg.MinDelay, j.frame)
	j.maxFrames = max(j.minFrames, min(int64(cfg.MaxDelay/j.frame), int64(cfg.Capacity-1)))
}

func normalize(cfg JitterConfig) JitterConfig {
	if cfg.FrameDuration <= 0 {
		cfg.FrameDuration = DefaultFrameDuration
	}
	if cfg.ClockRate <= 0 {
		cfg.ClockRate = DefaultClockRate
	}
	if cfg.MinDelay <= 0 {
		cfg.MinDelay = DefaultMinDelay
	}
	// Less than one frame of delay would play every packet the instant it arrives,
	// which no real network allows.
	cfg.MinDelay = max(cfg.MinDelay, cfg.FrameDuration)
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	cfg.MaxDelay = max(cfg.MaxDelay, cfg.MinDelay)
	if cfg.Capacity <= 0 {
		cfg.Capacity = DefaultCapacity
	}
	cfg.Capacity = max(cfg.Capacity, 2)
	if cfg.MaxPayload <= 0 {
		cfg.MaxPayload = DefaultMaxPayload
	}
	return cfg
}

// Reset forgets the stream and the counters, keeping the memory, for a new call.
func (j *JitterBuffer) Reset() {
	*j = JitterBuffer{
		asked: j.asked, cfg: j.cfg, frameSamples: j.frameSamples, frame: j.frame, tolerance: j.tolerance,
		minFrames: j.minFrames, maxFrames: j.maxFrames, slots: j.slots, slotSize: j.slotSize,
		cand: candidate{buf: j.cand.buf},
	}
	for i := range j.slots {
		j.slots[i].used = false
	}
}

// Stats returns the counters and the current estimates.
func (j *JitterBuffer) Stats() JitterStats {
	s := j.stats
	s.Buffered = j.count
	if j.cand.held {
		s.Pending = 1
	}
	s.Jitter = j.jitter16 / 16
	s.Delay = j.target()
	s.Frame = j.frame
	return s
}

// Len is the number of packets held: the playout queue plus a pending candidate.
func (j *JitterBuffer) Len() int {
	if j.cand.held {
		return j.count + 1
	}
	return j.count
}

// peakPolicy: the playout delay follows the peak delay of recent packets (PolicyPeak).
func (j *JitterBuffer) peakPolicy() bool { return j.cfg.Policy == PolicyPeak }

func (p JitterPolicy) String() string {
	switch p {
	case PolicyPeak:
		return "peak"
	case PolicyJitterMultiple:
		return "jitter-multiple"
	}
	return "unknown"
}
