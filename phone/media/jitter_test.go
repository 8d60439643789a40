package media

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const tick = 20 * time.Millisecond

// mkPacket builds a packet whose payload names it (seq and SSRC), so the tests can tell
// what Pop played.
func mkPacket(ssrc uint32, seq uint16, ts uint32, at time.Time) Packet {
	payload := make([]byte, 160)
	binary.BigEndian.PutUint16(payload, seq)
	binary.BigEndian.PutUint32(payload[2:], ssrc)
	return Packet{Seq: seq, Timestamp: ts, SSRC: ssrc, Payload: payload, Arrival: at}
}

// stream builds n packets of one source, one per 20 ms of media; arrive(i) is packet
// i's arrival time.
func stream(ssrc uint32, seq0 uint16, ts0 uint32, n int, arrive func(i int) time.Time) []Packet {
	pkts := make([]Packet, n)
	for i := range pkts {
		pkts[i] = mkPacket(ssrc, seq0+uint16(i), ts0+uint32(i)*160, arrive(i))
	}
	return pkts
}

// regular is the arrival of a jitter-free stream that starts at t0.
func regular(i int) time.Time { return t0.Add(time.Duration(i) * tick) }

// tickResult is what one Pop returned.
type tickResult struct {
	at     time.Time
	status PopStatus
	seq    uint16
	ssrc   uint32
}

// simulate pushes the packets at their arrival times and pops every 20 ms from popStart,
// pushes first when times tie, checking the invariants after every call.
func simulate(t *testing.T, jb *JitterBuffer, pkts []Packet, popStart time.Time, pops int) []tickResult {
	t.Helper()
	sorted := slices.Clone(pkts)
	slices.SortStableFunc(sorted, func(a, b Packet) int { return a.Arrival.Compare(b.Arrival) })
	var out []tickResult
	st0 := jb.Stats()
	base := st0.Played + st0.Lost + st0.Inserted + st0.Idle
	next := 0
	for k := 0; k < pops; k++ {
		now := popStart.Add(time.Duration(k) * tick)
		for next < len(sorted) && !sorted[next].Arrival.After(now) {
			jb.Push(sorted[next])
			next++
			checkInvariants(t, jb, base+uint64(len(out)))
		}
		payload, st := jb.Pop(now)
		r := tickResult{at: now, status: st}
		if st == Played {
			r.seq = binary.BigEndian.Uint16(payload)
			r.ssrc = binary.BigEndian.Uint32(payload[2:])
		} else if payload != nil {
			t.Fatalf("tick %d: status %v with a payload", k, st)
		}
		out = append(out, r)
		checkInvariants(t, jb, base+uint64(len(out)))
	}
	return out
}

// checkInvariants: every packet is accounted for once, every Pop once, the queue stays
// within Capacity and the target within the configured range.
func checkInvariants(t *testing.T, jb *JitterBuffer, pops uint64) {
	t.Helper()
	s := jb.Stats()
	held := s.Played + s.Late + s.Duplicate + s.Dropped + s.Discarded + uint64(s.Buffered) + uint64(s.Pending)
	if s.Received != held {
		t.Fatalf("received %d but played+late+dup+dropped+discarded+buffered+pending = %d: %+v", s.Received, held, s)
	}
	if got := s.Played + s.Lost + s.Inserted + s.Idle; got != pops {
		t.Fatalf("%d pops but played+lost+inserted+idle = %d: %+v", pops, got, s)
	}
	if s.Buffered > jb.cfg.Capacity || s.Buffered < 0 || s.Pending > 1 || jb.Len() != s.Buffered+s.Pending {
		t.Fatalf("buffered %d pending %d len %d, capacity %d", s.Buffered, s.Pending, jb.Len(), jb.cfg.Capacity)
	}
	if s.Delay < jb.cfg.MinDelay || s.Delay > max(jb.cfg.MaxDelay, time.Duration(jb.minFrames)*jb.frame) {
		t.Fatalf("target delay %v outside [%v, %v]", s.Delay, jb.cfg.MinDelay, jb.cfg.MaxDelay)
	}
}

// playedSeqs lists the sequence numbers played, in order.
func playedSeqs(ticks []tickResult) []uint16 {
	var seqs []uint16
	for _, r := range ticks {
		if r.status == Played {
			seqs = append(seqs, r.seq)
		}
	}
	return seqs
}

// activeSpan trims the ticks to those from the first to the last Played.
func activeSpan(ticks []tickResult) []tickResult {
	played := func(r tickResult) bool { return r.status == Played }
	first := slices.IndexFunc(ticks, played)
	if first < 0 {
		return nil
	}
	last := len(ticks) - 1
	for !played(ticks[last]) {
		last--
	}
	return ticks[first : last+1]
}

func seqRange(from uint16, n int) []uint16 {
	s := make([]uint16, n)
	for i := range s {
		s[i] = from + uint16(i)
	}
	return s
}

func arrivalOf(pkts []Packet, seq uint16) time.Time {
	for _, p := range pkts {
		if p.Seq == seq {
			return p.Arrival
		}
	}
	panic("no such packet")
}

func TestPopBeforePushIsBuffering(t *testing.T) {
	jb := NewJitterBuffer(JitterConfig{})
	for i := 0; i < 3; i++ {
		if payload, st := jb.Pop(t0.Add(time.Duration(i) * tick)); st != Buffering || payload != nil {
			t.Fatalf("Pop on an empty buffer = %v, %v", payload, st)
		}
	}
	checkInvariants(t, jb, 3)
}

func TestDefaults(t *testing.T) {
	jb := NewJitterBuffer(JitterConfig{MinDelay: time.Millisecond})
	c := jb.cfg
	if c.MinDelay != 20*time.Millisecond || c.MaxDelay != 300*time.Millisecond || c.FrameDuration != tick ||
		c.ClockRate != 8000 || c.Capacity != 64 || c.MaxPayload != 1500 || jb.frameSamples != 160 {
		t.Fatalf("normalised config %+v, frame %d samples", c, jb.frameSamples)
	}
	if d := jb.Stats().Delay; d != 20*time.Millisecond {
		t.Fatalf("initial target %v, want the 20 ms floor", d)
	}
}

// leastWait is how long a packet of a clean stream waits at least: PolicyPeak counts MinDelay
// to the end of the frame's playout, so a packet plays at the first tick after it arrived
// (and waited minWait); PolicyJitterMultiple waits MinDelay before that tick.
func leastWait(policy JitterPolicy, minDelay time.Duration) time.Duration {
	if policy == PolicyJitterMultiple {
		return minDelay
	}
	return max(minDelay-tick, minWait)
}

func TestInOrderStreamPlaysEveryPacketWithConfiguredDelay(t *testing.T) {
	for _, policy := range []JitterPolicy{PolicyPeak, PolicyJitterMultiple} {
		for _, minDelay := range []time.Duration{20 * time.Millisecond, 60 * time.Millisecond} {
			for _, phase := range []time.Duration{0, 1 * time.Millisecond, 7 * time.Millisecond, 19 * time.Millisecond} {
				jb := NewJitterBuffer(JitterConfig{MinDelay: minDelay, Policy: policy})
				pkts := stream(1, 1000, 50000, 100, regular)
				ticks := simulate(t, jb, pkts, t0.Add(phase), 130)
				if got := playedSeqs(ticks); !slices.Equal(got, seqRange(1000, 100)) {
					t.Fatalf("%v min %v phase %v: played %v", policy, minDelay, phase, got)
				}
				least := leastWait(policy, minDelay)
				for _, r := range activeSpan(ticks) {
					if r.status != Played {
						t.Fatalf("%v min %v phase %v: %v in the middle of a clean stream", policy, minDelay, phase, r.status)
					}
					if d := r.at.Sub(arrivalOf(pkts, r.seq)); d < least || d >= least+tick {
						t.Fatalf("%v min %v phase %v: seq %d waited %v, want [%v, %v)", policy, minDelay, phase, r.seq, d, least, least+tick)
					}
				}
				s := jb.Stats()
				if s.Played != 100 || s.Late+s.Duplicate+s.Dropped+s.Discarded+s.Inserted+s.Resyncs != 0 || s.Jitter != 0 {
					t.Fatalf("%v min %v phase %v: stats %+v", policy, minDelay, phase, s)
				}
			}
		}
	}
}

func TestReorderingIsUndone(t *testing.T) {
	// 3,1,2 at the very start, then pairs swapped mid-stream within the delay.
	pkts := stream(7, 1, 160, 60, func(i int) time.Time {
		switch i {
		case 0:
			return t0.Add(41 * time.Millisecond) // seq 1 after seq 3
		case 1:
			return t0.Add(42 * time.Millisecond) // seq 2 after seq 1
		case 2:
			return t0.Add(40 * time.Millisecond) // seq 3 first
		case 30:
			return regular(31).Add(5 * time.Millisecond) // seq 31 after seq 32
		}
		return regular(i)
	})
	jb := NewJitterBuffer(JitterConfig{MinDelay: 40 * time.Millisecond})
	ticks := simulate(t, jb, pkts, t0.Add(3*time.Millisecond), 90)
	if got := playedSeqs(ticks); !slices.Equal(got, seqRange(1, 60)) {
		t.Fatalf("played %v", got)
	}
	if s := jb.Stats(); countStatus(activeSpan(ticks), Missing) != 0 || s.Late != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestDuplicatesAreCountedNotReplayed(t *testing.T) {
	pkts := stream(1, 0, 0, 40, regular)
	pkts = append(pkts, mkPacket(1, 5, 5*160, regular(5)))                           // while buffered
	pkts = append(pkts, mkPacket(1, 10, 10*160, regular(20)))                        // long after it played
	pkts = append(pkts, mkPacket(1, 999, 12*160, regular(12).Add(time.Microsecond))) // same timestamp, other seq
	jb := NewJitterBuffer(JitterConfig{})
	ticks := simulate(t, jb, pkts, t0.Add(5*time.Millisecond), 60)
	if got := playedSeqs(ticks); !slices.Equal(got, seqRange(0, 40)) {
		t.Fatalf("played %v", got)
	}
	if s := jb.Stats(); s.Duplicate != 3 || s.Late != 0 || countStatus(activeSpan(ticks), Missing) != 0 {
		t.Fatalf("stats %+v, want 3 duplicates", s)
	}
}

func TestLossBurstsAreMissingExactlyThere(t *testing.T) {
	lost := map[int]bool{20: true, 50: true, 51: true, 52: true}
	for i := 100; i < 110; i++ {
		lost[i] = true
	}
	var pkts []Packet
	for _, p := range stream(3, 65000, 0, 160, regular) {
		if !lost[int(p.Seq-65000)] {
			pkts = append(pkts, p)
		}
	}
	jb := NewJitterBuffer(JitterConfig{})
	ticks := activeSpan(simulate(t, jb, pkts, t0.Add(11*time.Millisecond), 200))
	if len(ticks) != 160 {
		t.Fatalf("%d ticks from first to last packet, want 160", len(ticks))
	}
	for i, r := range ticks {
		switch {
		case lost[i] && r.status != Missing:
			t.Errorf("slot %d: %v, want missing", i, r.status)
		case !lost[i] && (r.status != Played || r.seq != 65000+uint16(i)):
			t.Errorf("slot %d: %v seq %d, want seq %d played", i, r.status, r.seq, 65000+uint16(i))
		}
	}
	// Real losses stay counted lost (the packet after each gap does not follow the last played).
	if s := jb.Stats(); s.Lost < 14 || s.Late != 0 || s.Inserted != 0 {
		t.Fatalf("stats %+v", s)
	}
	// The 14 in the stream; the ticks after the stream ended are underrun losses.
	lostInside := 0
	for _, r := range ticks {
		if r.status == Missing {
			lostInside++
		}
	}
	if lostInside != 14 {
		t.Fatalf("%d missing inside the stream, want 14", lostInside)
	}
}

func TestLatePacketIsDroppedAndGrowsTheDelay(t *testing.T) {
	pkts := stream(1, 0, 0, 200, func(i int) time.Time {
		if i == 30 {
			return regular(i).Add(100 * time.Millisecond)
		}
		return regular(i)
	})
	jb := NewJitterBuffer(JitterConfig{})
	var target time.Duration
	ticks := activeSpan(simulate(t, jb, pkts[:40], t0.Add(7*time.Millisecond), 40))
	target = jb.Stats().Delay
	ticks = append(ticks, activeSpan(simulate(t, jb, pkts[40:], t0.Add(7*time.Millisecond+40*tick), 220))...)
	s := jb.Stats()
	if s.Late != 1 || s.Inserted == 0 {
		t.Fatalf("stats %+v: want 1 late, some inserted", s)
	}
	if target < 40*time.Millisecond {
		t.Fatalf("target %v after a packet 100 ms late, want grown to >= 40 ms", target)
	}
	// Growing loses nothing else: only packet 30's tick is missing, and every other
	// packet is played, or dropped later as the delay shrinks back.
	if n := countStatus(ticks, Missing); n != 1 {
		t.Fatalf("%d missing ticks, want 1", n)
	}
	if s.Played+s.Discarded != 199 || s.Discarded > 3 {
		t.Fatalf("stats %+v", s)
	}
}

func TestSSRCChangeResyncsAndPlaysTheNewStream(t *testing.T) {
	a := stream(0xAAAA, 100, 1000, 50, regular)
	b := stream(0xBBBB, 40000, 99999999, 50, func(i int) time.Time { return regular(50 + i) })
	jb := NewJitterBuffer(JitterConfig{})
	ticks := simulate(t, jb, append(a, b...), t0.Add(9*time.Millisecond), 140)
	var gotA, gotB []uint16
	for _, r := range ticks {
		if r.status != Played {
			continue
		}
		if r.ssrc == 0xBBBB {
			gotB = append(gotB, r.seq)
		} else if len(gotB) > 0 {
			t.Fatal("old stream played after the new one")
		} else {
			gotA = append(gotA, r.seq)
		}
	}
	if !slices.Equal(gotB, seqRange(40000, 50)) {
		t.Fatalf("new stream played %v", gotB)
	}
	if !slices.Equal(gotA, seqRange(100, len(gotA))) {
		t.Fatalf("old stream played %v", gotA)
	}
	s := jb.Stats()
	if s.Resyncs != 1 || uint64(len(gotA))+s.Discarded != 50 {
		t.Fatalf("stats %+v, old stream played %d", s, len(gotA))
	}
}

func TestStrayPacketDoesNotResync(t *testing.T) {
	pkts := stream(1, 0, 0, 100, regular)
	pkts = append(pkts, mkPacket(666, 4242, 123456, regular(50).Add(time.Millisecond)))
	pkts = append(pkts, mkPacket(1, 77, 77*160+8000*60, regular(70).Add(time.Millisecond))) // one packet a minute ahead
	jb := NewJitterBuffer(JitterConfig{})
	ticks := simulate(t, jb, pkts, t0.Add(9*time.Millisecond), 130)
	if got := playedSeqs(ticks); !slices.Equal(got, seqRange(0, 100)) {
		t.Fatalf("played %v", got)
	}
	if s := jb.Stats(); s.Resyncs != 0 || s.Dropped != 2 || countStatus(activeSpan(ticks), Missing) != 0 {
		t.Fatalf("stats %+v: want the two strays dropped, no resync", s)
	}
}

func TestTimestampJumpResyncs(t *testing.T) {
	for _, jump := range []int64{10 * 8000, -5 * 8000, 1 << 31} {
		pkts := stream(1, 500, 4000000000, 100, regular)
		for i := 50; i < 100; i++ {
			pkts[i].Timestamp += uint32(jump)
		}
		jb := NewJitterBuffer(JitterConfig{})
		ticks := simulate(t, jb, pkts, t0.Add(9*time.Millisecond), 140)
		got := playedSeqs(ticks)
		if !slices.Equal(got[len(got)-50:], seqRange(550, 50)) {
			t.Fatalf("jump %d: played %v", jump, got)
		}
		s := jb.Stats()
		if s.Resyncs != 1 || s.Played+s.Discarded != 100 {
			t.Fatalf("jump %d: stats %+v", jump, s)
		}
	}
}

func TestPersistentLatenessResyncs(t *testing.T) {
	// The sender steps its timestamps back by 1 s: every packet looks 1 s late. After a
	// second of that, the buffer follows the new timeline.
	pkts := stream(1, 0, 0, 300, regular)
	for i := 100; i < 300; i++ {
		pkts[i].Timestamp -= 8000
	}
	jb := NewJitterBuffer(JitterConfig{})
	ticks := simulate(t, jb, pkts, t0.Add(9*time.Millisecond), 320)
	got := playedSeqs(ticks)
	if !slices.Equal(got[len(got)-100:], seqRange(200, 100)) {
		t.Fatalf("played %v", got)
	}
	s := jb.Stats()
	if s.Resyncs != 1 || s.Late < 40 || s.Late > 60 {
		t.Fatalf("stats %+v", s)
	}
	if s.Delay > 40*time.Millisecond {
		t.Fatalf("target %v: the timeline change should not count as network jitter", s.Delay)
	}
}

func TestSequenceAndTimestampWrap(t *testing.T) {
	pkts := stream(9, 65500, 1<<32-40*160, 200, regular)
	// Swap two packets across the sequence wrap.
	pkts[35].Arrival = pkts[36].Arrival.Add(time.Millisecond)
	jb := NewJitterBuffer(JitterConfig{MinDelay: 40 * time.Millisecond})
	ticks := simulate(t, jb, pkts, t0.Add(13*time.Millisecond), 230)
	if got := playedSeqs(ticks); !slices.Equal(got, seqRange(65500, 200)) {
		t.Fatalf("played %v", got)
	}
	if s := jb.Stats(); countStatus(activeSpan(ticks), Missing) != 0 || s.Late != 0 || s.Duplicate != 0 || s.Resyncs != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestSilenceSuppressionGap(t *testing.T) {
	// A talkspurt, 2 s of nothing (timestamps jump, sequence numbers do not), another.
	a := stream(1, 0, 0, 50, regular)
	b := stream(1, 50, 50*160+16000, 50, func(i int) time.Time { return regular(150 + i) })
	b[0].Marker = true
	jb := NewJitterBuffer(JitterConfig{})
	ticks := simulate(t, jb, append(a, b...), t0.Add(9*time.Millisecond), 230)
	if got := playedSeqs(ticks); !slices.Equal(got, seqRange(0, 100)) {
		t.Fatalf("played %v", got)
	}
	s := jb.Stats()
	// The first 500 ms of the gap are indistinguishable from loss, then it is an underrun.
	// Once the next talkspurt shows they were the sender's silence, they are not counted
	// lost; only the ticks after the stream's end are (nothing followed them).
	n := countStatus(activeSpan(ticks), Missing)
	if s.Resyncs != 0 || s.Late != 0 || n != 25 || s.Lost != uint64(countStatus(ticks, Missing)-n) {
		t.Fatalf("stats %+v, %d missing", s, n)
	}
	// After the underrun the delay starts over at the floor: the first tick after arrival.
	least := leastWait(PolicyPeak, DefaultMinDelay)
	for _, r := range ticks {
		if r.status == Played && r.seq >= 50 {
			if d := r.at.Sub(arrivalOf(b, r.seq)); d < least || d >= least+tick {
				t.Fatalf("after the gap seq %d waited %v, want [%v, %v)", r.seq, d, least, least+tick)
			}
		}
	}
}

func TestSilenceGapInsideTheBufferIsSkippedNotLost(t *testing.T) {
	// With a long delay the packets after a short silence are already buffered when the
	// gap reaches the cursor: those ticks are silence, not loss.
	a := stream(1, 0, 0, 50, regular)
	b := stream(1, 50, 50*160+3*160, 50, func(i int) time.Time { return regular(53 + i) })
	jb := NewJitterBuffer(JitterConfig{MinDelay: 100 * time.Millisecond})
	ticks := simulate(t, jb, append(a, b...), t0.Add(9*time.Millisecond), 130)
	if got := playedSeqs(ticks); !slices.Equal(got, seqRange(0, 100)) {
		t.Fatalf("played %v", got)
	}
	span := activeSpan(ticks)
	if n := countStatus(span, Missing); n != 0 {
		t.Fatalf("%d missing ticks inside the stream, want the gap as silence", n)
	}
	if n := countStatus(span, Buffering); n != 3 {
		t.Fatalf("%d silent ticks inside the stream, want the 3 the sender skipped", n)
	}
}

func countStatus(ticks []tickResult, st PopStatus) int {
	n := 0
	for _, r := range ticks {
		if r.status == st {
			n++
		}
	}
	return n
}

// TestJitterAdaptation: a minute of ±30 ms uniform arrival noise, then three minutes of
// none. The RFC 3550 estimate must be near its expected 20 ms (E|U1-U2| = 2N/3), the
// delay must grow enough that almost nothing is late, then shrink back to the floor.
func TestJitterAdaptation(t *testing.T) {
	const noisy, quiet = 3000, 9000 // packets: 60 s, 180 s
	rng := rand.New(rand.NewPCG(1, 2))
	pkts := stream(5, 0, 0, noisy+quiet, func(i int) time.Time {
		at := regular(i).Add(50 * time.Millisecond)
		if i < noisy {
			at = at.Add(time.Duration(rng.Int64N(int64(60*time.Millisecond))) - 30*time.Millisecond)
		}
		return at
	})
	jb := NewJitterBuffer(JitterConfig{})
	var atNoisyEnd JitterStats
	var lateAfterWarmup uint64
	sorted := slices.Clone(pkts)
	slices.SortStableFunc(sorted, func(a, b Packet) int { return a.Arrival.Compare(b.Arrival) })
	next, pops := 0, uint64(0)
	var delays []time.Duration // how long each packet waited, in play order
	for k := 0; k < noisy+quiet+50; k++ {
		now := t0.Add(time.Duration(k)*tick + 3*time.Millisecond)
		for next < len(sorted) && !sorted[next].Arrival.After(now) {
			jb.Push(sorted[next])
			next++
		}
		payload, st := jb.Pop(now)
		pops++
		if st == Played {
			seq := binary.BigEndian.Uint16(payload)
			delays = append(delays, now.Sub(pkts[seq].Arrival))
		}
		if k == 500 {
			lateAfterWarmup = jb.Stats().Late
		}
		if k == noisy {
			atNoisyEnd = jb.Stats()
		}
	}
	checkInvariants(t, jb, pops)
	end := jb.Stats()
	t.Logf("after the noisy minute: jitter %v, target %v, late %d, inserted %d", atNoisyEnd.Jitter, atNoisyEnd.Delay, atNoisyEnd.Late, atNoisyEnd.Inserted)
	t.Logf("after three quiet minutes: jitter %v, target %v, discarded %d", end.Jitter, end.Delay, end.Discarded)
	if atNoisyEnd.Jitter < 14*time.Millisecond || atNoisyEnd.Jitter > 26*time.Millisecond {
		t.Errorf("jitter estimate %v for ±30 ms uniform noise, want about 20 ms", atNoisyEnd.Jitter)
	}
	if atNoisyEnd.Delay < 60*time.Millisecond || atNoisyEnd.Delay > 160*time.Millisecond {
		t.Errorf("target %v under ±30 ms noise, want 60..160 ms", atNoisyEnd.Delay)
	}
	if late := atNoisyEnd.Late - lateAfterWarmup; late > noisy/100 {
		t.Errorf("%d packets late after the first 10 s, want under 1%%", late)
	}
	if end.Jitter > time.Millisecond || end.Delay != 20*time.Millisecond {
		t.Errorf("after the noise stopped: jitter %v target %v, want ~0 and 20 ms", end.Jitter, end.Delay)
	}
	if end.Discarded == 0 {
		t.Error("the delay never shrank")
	}
	// The last 10 s of packets wait about one frame again, not the noisy minute's delay.
	for _, d := range delays[len(delays)-500:] {
		if d > 50*time.Millisecond {
			t.Fatalf("a packet waited %v at the end, want the delay back near 20 ms", d)
		}
	}
	if end.Played+end.Discarded+end.Late != noisy+quiet {
		t.Errorf("stats %+v", end)
	}
}

func TestBurstAfterStallIsNotPlayedStale(t *testing.T) {
	// The network holds packets 50..124 for 1.5 s and then delivers them at once. The
	// ones whose ticks passed are late; the rest must not leave the call 1 s behind.
	pkts := stream(1, 0, 0, 400, func(i int) time.Time {
		if i >= 50 && i < 125 {
			return regular(125).Add(time.Duration(i) * time.Microsecond)
		}
		return regular(i)
	})
	jb := NewJitterBuffer(JitterConfig{})
	var delays []time.Duration
	for _, r := range simulate(t, jb, pkts, t0.Add(7*time.Millisecond), 420) {
		if r.status == Played && r.seq >= 150 {
			delays = append(delays, r.at.Sub(pkts[r.seq].Arrival))
		}
	}
	s := jb.Stats()
	if s.Resyncs != 0 || s.Late == 0 {
		t.Fatalf("stats %+v", s)
	}
	for _, d := range delays[50:] {
		if d > 100*time.Millisecond {
			t.Fatalf("packets wait %v long after the burst, want the backlog dropped", d)
		}
	}
	t.Logf("stats %+v", s)
}

func TestCapacityIsNeverExceeded(t *testing.T) {
	jb := NewJitterBuffer(JitterConfig{Capacity: 16})
	pkts := stream(1, 0, 0, 200, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Microsecond) })
	for i, p := range pkts {
		jb.Push(p)
		if s := jb.Stats(); s.Buffered > 16 {
			t.Fatalf("after %d pushes %d buffered", i+1, s.Buffered)
		}
	}
	checkInvariants(t, jb, 0)
	// The newest packets survive: old audio would only add delay.
	ticks := simulate(t, jb, nil, t0.Add(time.Millisecond), 30)
	if got := playedSeqs(ticks); !slices.Equal(got, seqRange(184, 16)) {
		t.Fatalf("played %v", got)
	}
	if s := jb.Stats(); s.Dropped != 184 {
		t.Fatalf("stats %+v", s)
	}
}

func TestOversizePayloadIsDropped(t *testing.T) {
	jb := NewJitterBuffer(JitterConfig{})
	big := make([]byte, 1501)
	jb.Push(Packet{Seq: 1, Timestamp: 160, SSRC: 1, Payload: big, Arrival: t0})
	max := make([]byte, 1500)
	max[1499] = 0x55
	jb.Push(Packet{Seq: 2, Timestamp: 320, SSRC: 1, Payload: max, Arrival: t0})
	payload, st := jb.Pop(t0.Add(tick))
	if st != Played || len(payload) != 1500 || payload[1499] != 0x55 {
		t.Fatalf("Pop = %d bytes, %v", len(payload), st)
	}
	if s := jb.Stats(); s.Dropped != 1 || s.Received != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestPayloadIsCopiedAndCapped(t *testing.T) {
	jb := NewJitterBuffer(JitterConfig{})
	p := mkPacket(1, 1, 160, t0)
	jb.Push(p)
	clear(p.Payload) // the caller reuses its read buffer
	payload, st := jb.Pop(t0.Add(tick))
	if st != Played || binary.BigEndian.Uint16(payload) != 1 {
		t.Fatalf("Pop = %v %v", payload[:4], st)
	}
	if cap(payload) != len(payload) {
		t.Fatal("payload can be appended into the buffer's memory")
	}
}

func TestResetForgetsEverything(t *testing.T) {
	jb := NewJitterBuffer(JitterConfig{})
	simulate(t, jb, stream(1, 0, 0, 20, regular), t0, 10)
	jb.Reset()
	if s := jb.Stats(); s != (JitterStats{Delay: 20 * time.Millisecond, Frame: 20 * time.Millisecond}) {
		t.Fatalf("stats after Reset %+v", s)
	}
	ticks := simulate(t, jb, stream(2, 9, 9, 20, func(i int) time.Time { return regular(100 + i) }), regular(100), 40)
	if got := playedSeqs(ticks); !slices.Equal(got, seqRange(9, 20)) {
		t.Fatalf("played %v", got)
	}
}

func TestPushPopAllocateNothing(t *testing.T) {
	jb := NewJitterBuffer(JitterConfig{})
	payload := make([]byte, 160)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		at := regular(i)
		jb.Push(Packet{Seq: uint16(i), Timestamp: uint32(i * 160), SSRC: 1, Payload: payload, Arrival: at})
		jb.Pop(at.Add(5 * time.Millisecond))
		i++
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per packet, want 0", allocs)
	}
}

func TestPopStatusString(t *testing.T) {
	for st, want := range map[PopStatus]string{Buffering: "buffering", Played: "played", Missing: "missing", Inserted: "inserted", 9: "unknown"} {
		if st.String() != want {
			t.Errorf("%d.String() = %q", st, st.String())
		}
	}
}

// FuzzJitterBuffer drives the buffer with packets and ticks decoded from the input:
// random sequence numbers, timestamps (small steps, wraps and big jumps), three SSRCs,
// payloads up to 2295 bytes (past the 1500-byte slots) and arrival times that may lag
// the ticks. Nothing may panic, every packet and tick must be accounted for once, the
// queue must stay within Capacity, and a played payload must be one pushed whole.
func FuzzJitterBuffer(f *testing.F) {
	f.Add([]byte{0x31, 1, 1, 1, 18, 7, 0, 1, 1, 1, 18, 8, 0, 0, 0})
	f.Add([]byte{0x0f, 1, 2, 2, 18, 1, 1, 255, 255, 18, 2, 0, 5, 1, 1, 200, 3, 0, 0, 0, 0})
	f.Fuzz(fuzzJitterBuffer)
}

func fuzzJitterBuffer(t *testing.T, data []byte) {
	if len(data) == 0 {
		return
	}
	cfg := JitterConfig{Capacity: 2 + int(data[0]%16), MinDelay: time.Duration(data[0]>>4) * 10 * time.Millisecond}
	data = data[1:]
	jb := NewJitterBuffer(cfg)
	ssrcs := [3]uint32{1, 2, 0xdeadbeef}
	payload := make([]byte, 255*9)
	now := t0
	var seq uint16
	var ts uint32
	var pops uint64
	for len(data) > 0 {
		op := data[0]
		data = data[1:]
		if op&3 == 0 {
			// A tick, itself up to ±2 ms off the 20 ms grid.
			now = now.Add(tick + time.Duration(int(op>>2)%5-2)*time.Millisecond)
			got, st := jb.Pop(now)
			pops++
			checkPopped(t, got, st, jb.cfg.MaxPayload)
			checkInvariants(t, jb, pops)
			continue
		}
		if len(data) < 4 {
			return
		}
		b := data[:4]
		data = data[4:]
		seq += uint16(int8(b[0]))
		switch op >> 6 {
		case 0, 1:
			ts += uint32(int32(int8(b[1])) * 160)
		case 2:
			ts += uint32(b[1]) << 24
		default:
			ts = uint32(b[1]) * 12345
		}
		n := int(b[2]) * 9
		for i := range payload[:n] {
			payload[i] = b[3]
		}
		arrival := now.Add(time.Duration(int8(b[3])) * time.Millisecond / 2)
		jb.Push(Packet{Seq: seq, Timestamp: ts, SSRC: ssrcs[int(op>>2)%3], Marker: op&4 != 0, Payload: payload[:n], Arrival: arrival})
		clear(payload[:n]) // the buffer must have copied it
		checkInvariants(t, jb, pops)
	}
}

// checkPopped: a played payload is whole (one fill byte throughout, within the slot size);
// other statuses carry none.
func checkPopped(t *testing.T, payload []byte, st PopStatus, maxPayload int) {
	t.Helper()
	if st != Played {
		if payload != nil {
			t.Fatalf("%v with a %d-byte payload", st, len(payload))
		}
		return
	}
	if len(payload) > maxPayload {
		t.Fatalf("played %d bytes, slots hold %d", len(payload), maxPayload)
	}
	for _, c := range payload {
		if c != payload[0] {
			t.Fatalf("played payload mixes packets: % x", payload)
		}
	}
}

func TestShrinkPrefersSilenceAndSkipsGaps(t *testing.T) {
	// Ten seconds of ±30 ms noise grow the delay; as it shrinks back afterwards, the buffer
	// must spend the 3-frame silences the sender leaves every 0.5 s from 12 s on, and
	// otherwise drop only frames Silent reports (every 10th). Both policies: PolicyPeak
	// grew only as far as the noise needed (it has about a frame to shed, the RFC 3550
	// multiple several), so either kind of silence may pay for it.
	shrinkPrefersSilence(t, PolicyPeak, true)
	shrinkPrefersSilence(t, PolicyJitterMultiple, true)
	// Without Silent (as rx.go builds it) the gaps are the only free silence, and must be
	// what pays: a due shrink waits a second for one, and they come every half second.
	// (PolicyJitterMultiple grows well past the noise's need and starts shrinking while the
	// noise lasts, before any gap: with nothing to tell it what is silent it drops speech.)
	shrinkPrefersSilence(t, PolicyPeak, false)
}

func shrinkPrefersSilence(t *testing.T, policy JitterPolicy, withSilent bool) {
	const gaps, gapEvery = 36, 25
	var silent func(p []byte) bool
	if withSilent {
		silent = func(p []byte) bool { return p[6] == 1 }
	}
	name := fmt.Sprintf("%v, Silent %v", policy, withSilent)
	rng := rand.New(rand.NewPCG(7, 8))
	var warm, rest []Packet
	for i := 0; i < 1500; i++ {
		ts, at := uint32(i*160), regular(i).Add(50*time.Millisecond)
		if skipped := min(max(0, (i-600+gapEvery)/gapEvery), gaps) * 3; skipped > 0 { // the sender left out 3 frames of silence
			ts += uint32(skipped) * 160
			at = at.Add(time.Duration(skipped) * tick)
		}
		if i < 500 {
			at = at.Add(time.Duration(rng.Int64N(int64(60*time.Millisecond))) - 30*time.Millisecond)
		}
		p := mkPacket(1, uint16(i), ts, at)
		if i%10 == 5 {
			p.Payload[6] = 1
		}
		if at.Before(t0.Add(50 * tick)) {
			warm = append(warm, p)
		} else {
			rest = append(rest, p)
		}
	}
	jb := NewJitterBuffer(JitterConfig{Silent: silent, Policy: policy})
	// The first second is the delay finding its level under the noise: PolicyPeak starts
	// playing at the first tick, so a packet may be late there before any shrinking began.
	start := t0.Add(7 * time.Millisecond)
	ticks := simulate(t, jb, warm, start, 50)
	lateWarm := jb.Stats().Late
	ticks = append(ticks, simulate(t, jb, rest, start.Add(50*tick), 1700)...)
	span := activeSpan(ticks)
	played := map[uint16]bool{}
	for _, s := range playedSeqs(ticks) {
		played[s] = true
	}
	s := jb.Stats()
	for i := 0; i < 1500; i++ {
		if !played[uint16(i)] && (i%10 != 5 || !withSilent) && (i >= 50 || lateWarm == 0) {
			t.Errorf("%s: voiced packet %d was dropped to shrink", name, i)
		}
	}
	// The ticks after the last packet are the stream's end (Missing until the underrun).
	// Inside the stream nothing was lost after the first second, though the first ticks
	// of a silence that starts with nothing buffered play as Missing until its next
	// packet shows what they were (Lost does not count them).
	trailing := len(ticks) - slices.IndexFunc(ticks, func(r tickResult) bool { return r.at.After(span[len(span)-1].at) })
	warmLost := uint64(countStatus(ticks[:50], Missing))
	if s.Late != lateWarm || lateWarm > 1 || s.Lost != warmLost+uint64(countStatus(ticks[len(ticks)-trailing:], Missing)) {
		t.Fatalf("%s: stats %+v, %d late in the first second", name, s, lateWarm)
	}
	// The delay came back down to the quiet network's (the policy's least wait: a frame
	// less with PolicyPeak, which counts MinDelay to the end of the frame's playout), and
	// only silence paid for it: silent frames dropped, ticks of the sender's gaps spent.
	least, most := minWait, minWait+tick
	if policy == PolicyJitterMultiple {
		least, most = 15*time.Millisecond, 45*time.Millisecond // 20–40 ms and its quarter-frame tolerance
	}
	gapTicks := countStatus(span, Buffering) + countStatus(span, Missing) - int(warmLost)
	spent := 3*gaps - gapTicks
	if s.Discarded+uint64(spent) == 0 || !withSilent && spent == 0 {
		t.Errorf("%s: the delay did not shrink on silence: %d silent frames dropped, %d of the sender's %d silent ticks spent", name, s.Discarded, spent, 3*gaps)
	}
	for _, r := range span[len(span)-50:] {
		if r.status != Played {
			continue
		}
		if d := r.at.Sub(arrivalOf(rest, r.seq)); d < least || d >= most {
			t.Fatalf("%s: seq %d waited %v at the end, want [%v, %v)", name, r.seq, d, least, most)
		}
	}
	t.Logf("%s: stats %+v, %d silent frames dropped, %d of the %d silent ticks the sender left out spent", name, s, s.Discarded, spent, 3*gaps)
}

// TestDigitInsteadOfAudioIsNotLoss: the far end sends a digit in place of its audio (RFC 4733:
// telephone-events take the stream's sequence numbers), then talks on. The ticks the digit
// stood for are silence, not lost audio: the next audio packet follows the last one played
// once the events in between are noted (NoteOther). Before, every received digit counted ~10
// frames lost (and a comfort-noise packet at each pause the whole pause), down into the MOS.
func TestDigitInsteadOfAudioIsNotLoss(t *testing.T) {
	for _, delay := range []time.Duration{0, 100 * time.Millisecond} { // gap reached empty, or buffered
		a := stream(1, 0, 0, 50, regular)
		digit := stream(1, 50, 50*160, 10, func(i int) time.Time { return regular(50 + i) })
		b := stream(1, 60, 60*160, 50, func(i int) time.Time { return regular(60 + i) })
		jb := NewJitterBuffer(JitterConfig{MinDelay: delay})
		all := slices.Concat(a, b, digit)
		slices.SortStableFunc(all, func(x, y Packet) int { return x.Arrival.Compare(y.Arrival) })
		var ticks []tickResult
		next := 0
		for k := range 130 {
			now := t0.Add(9*time.Millisecond + time.Duration(k)*tick)
			for next < len(all) && !all[next].Arrival.After(now) {
				if p := all[next]; p.Seq >= 50 && p.Seq < 60 {
					jb.NoteOther(p.Seq, p.SSRC) // the receiver's view of a telephone-event
				} else {
					jb.Push(p)
				}
				next++
			}
			_, st := jb.Pop(now)
			ticks = append(ticks, tickResult{at: now, status: st})
		}
		// A Pop cannot know yet; once the audio after the digit comes, its ticks count idle.
		n := countStatus(activeSpan(ticks), Missing)
		if s := jb.Stats(); s.Lost != uint64(countStatus(ticks, Missing)-n) || s.Idle < 10 {
			t.Errorf("delay %v: stats %+v with %d ticks missing inside the stream, want the digit's 10 idle, none lost", delay, s, n)
		}
	}
}
