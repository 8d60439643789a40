// Package media holds the receive side of a call's audio: an adaptive jitter buffer that
// turns RTP packets arriving at irregular times into one frame per playout tick, and G.711
// packet-loss concealment for the frames that never came. Standard library only; nothing
// here reads the wall clock, so tests drive time explicitly.
package media

import "time"

// Packet is one received RTP packet, already parsed. Only audio packets of the call's
// codec belong here: telephone-event (RFC 4733) and comfort-noise packets share the
// stream's timestamps and must be split off before Push. Marker is carried for
// completeness; talkspurt boundaries are recognised from sequence continuity instead,
// which does not depend on the sender setting the bit.
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
	// MinDelay is the smallest playout delay, never below one frame (20 ms).
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
	// Silent, if set, reports whether a payload is silence, so the buffer drops silent
	// frames rather than speech when it shrinks its delay. It must not keep the slice.
	Silent func(payload []byte) bool
}

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
// waits before it is played (the "level"); the target comes from the RFC 3550 jitter.
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
	jitterGain      = 4                      // target delay = jitterGain × RFC 3550 jitter
	needDecayShift  = 8                      // need decays by need/256 per packet
	levelShift      = 3                      // level is smoothed over 8 ticks
	shrinkHold      = 2 * time.Second        // minimum time between delay changes before a shrink
	shrinkWait      = 1 * time.Second        // how long a due shrink waits for a silent frame
	baseRisePerSec  = time.Millisecond       // how fast the transit baseline may rise per second
	longGap         = 500 * time.Millisecond // an empty buffer this long is an underrun, not a loss
	jumpLimit       = 2 * time.Second        // a transit change bigger than this is a new timeline
	lateResyncAfter = 1 * time.Second        // packets all late for this long mean a new timeline
	seenWindow      = 256                    // sequence numbers remembered for duplicate detection
	insertSpacing   = 2                      // ticks between two insertions while a packet is ready
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
	// a loss cannot be told from the sender going quiet, so the first longGap (500 ms) of
	// a silence-suppression pause also reads as Missing; then the buffer reports an
	// underrun (Buffering) and restarts with the next packet.
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
	Lost      uint64 // ticks that returned Missing
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
}

// slot holds one buffered packet in memory owned by the buffer.
type slot struct {
	k    int64  // playout tick (frame index from the stream's first packet)
	seq  int64  // unwrapped sequence number
	used bool   // holds a packet waiting to be played
	n    int    // payload length
	buf  []byte // MaxPayload bytes of the shared arena
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
	cfg          JitterConfig
	frameSamples int64
	frame        time.Duration
	tolerance    time.Duration
	minFrames    int64
	maxFrames    int64

	slots []slot
	count int
	cand  candidate

	// Stream identity and unwrapping. tsRef/tsRefRaw is the newest accepted timestamp.
	started  bool
	ssrc     uint32
	epoch    time.Time // arrival of the stream's first packet: media time 0
	tsRef    int64
	tsRefRaw uint32
	seqHi    int64
	seen     [seenWindow / 64]uint64

	// Network estimates, in transit time: arrival - epoch - media time.
	hasPrev      bool
	prevTransit  time.Duration
	jitter16     time.Duration // RFC 3550 jitter scaled by 16 (reported)
	tjitter16    time.Duration // the same with each step clipped to MaxDelay (steers the target)
	need         time.Duration // decaying peak of the delay the network needs
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
	sinceInsert int
	lastChange  time.Time
	due         bool
	dueSince    time.Time

	stats JitterStats
}

// NewJitterBuffer allocates every slot up front so Push and Pop never allocate.
func NewJitterBuffer(cfg JitterConfig) *JitterBuffer {
	cfg = normalize(cfg)
	j := &JitterBuffer{cfg: cfg}
	j.frame = cfg.FrameDuration
	j.tolerance = cfg.FrameDuration / 4
	j.frameSamples = max(1, int64(cfg.ClockRate)*int64(cfg.FrameDuration)/int64(time.Second))
	j.minFrames = ceilDiv(cfg.MinDelay, j.frame)
	j.maxFrames = max(j.minFrames, min(int64(cfg.MaxDelay/j.frame), int64(cfg.Capacity-1)))
	arena := make([]byte, (cfg.Capacity+1)*cfg.MaxPayload)
	j.slots = make([]slot, cfg.Capacity)
	for i := range j.slots {
		j.slots[i].buf = arena[i*cfg.MaxPayload : (i+1)*cfg.MaxPayload : (i+1)*cfg.MaxPayload]
	}
	j.cand.buf = arena[cfg.Capacity*cfg.MaxPayload:]
	return j
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
		cfg: j.cfg, frameSamples: j.frameSamples, frame: j.frame, tolerance: j.tolerance,
		minFrames: j.minFrames, maxFrames: j.maxFrames, slots: j.slots,
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
	return s
}

// Len is the number of packets held: the playout queue plus a pending candidate.
func (j *JitterBuffer) Len() int {
	if j.cand.held {
		return j.count + 1
	}
	return j.count
}

// ---- Push ----

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
	tsRel := j.unwrapTS(p.Timestamp)
	r := j.transit(p.Arrival, tsRel)
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
	n := copy(j.cand.buf, p.Payload)
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
}

// startStream makes p the first packet of a new timeline: media time 0 at its arrival.
// Network estimates (jitter, need) survive: the path is usually the same.
func (j *JitterBuffer) startStream(p Packet) {
	j.started = true
	j.ssrc = p.SSRC
	j.epoch = p.Arrival
	j.tsRef, j.tsRefRaw = 0, p.Timestamp
	j.seqHi = int64(p.Seq)
	j.seen = [seenWindow / 64]uint64{}
	j.hasPrev, j.hasBase, j.lateRun = false, false, false
	j.playing, j.hasFloor, j.hasLastSeq = false, false, false
	j.emptyRun = 0
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
	j.need -= j.need >> needDecayShift
	j.need = max(j.need, jitterGain*j.tjitter16/16)
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
	if dt := arrival.Sub(j.baseAt); dt > 0 {
		j.base += dt / (time.Second / baseRisePerSec)
		j.baseAt = arrival
	}
	j.base = min(j.base, r)
}

// ---- Pop ----

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
	if j.shouldGrow(target) {
		return nil, j.insert(now)
	}
	j.shrink(now, target)
	return j.playNext()
}

// tryStart begins playout once the oldest packet has waited the target delay.
func (j *JitterBuffer) tryStart(now time.Time) bool {
	if j.count == 0 {
		return false
	}
	l := j.rawLevel(now)
	if l < j.target() {
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
	frames := min(max(ceilDiv(j.need, j.frame), j.minFrames), j.maxFrames)
	return time.Duration(frames) * j.frame
}

func (j *JitterBuffer) shouldGrow(target time.Duration) bool {
	if j.level >= target-j.tolerance {
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
func (j *JitterBuffer) shrink(now time.Time, target time.Duration) {
	if j.level-target > j.maxDelay() {
		j.catchUp(now, target)
		return
	}
	for {
		surplus := j.level - target
		if surplus >= j.frame && j.count > 0 && !j.holds(j.cur) && j.isSilenceGap() {
			j.skip() // the sender sent nothing here: free, as long as the target stays met
			continue
		}
		if surplus < j.frame+j.tolerance {
			break
		}
		if now.Sub(j.lastChange) < shrinkHold {
			break
		}
		// The wait for a silent frame starts once a shrink is allowed.
		if !j.due {
			j.due, j.dueSince = true, now
		}
		if !j.cheapToDrop(now) {
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
		j.emptyRun = 0
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
// played one in sequence, so the sender skipped these ticks (silence suppression).
func (j *JitterBuffer) isSilenceGap() bool {
	if !j.hasLastSeq {
		return false
	}
	for k := j.cur + 1; k <= j.maxK; k++ {
		if j.holds(k) {
			return j.slots[j.index(k)].seq == j.lastSeq+1
		}
	}
	return false
}

// ---- sequence numbers, timestamps and time ----

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
		} else {
			for s := j.seqHi + 1; s <= seq; s++ {
				b := uint64(s) % seenWindow
				j.seen[b/64] &^= 1 << (b % 64)
			}
		}
		j.seqHi = seq
	}
	if j.seqHi-seq < seenWindow {
		b := uint64(seq) % seenWindow
		j.seen[b/64] |= 1 << (b % 64)
	}
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
