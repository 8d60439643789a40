package media

import (
	"slices"
	"testing"
	"time"
)

// jumped is a regular stream of 150 packets whose timestamps jump by jump (in samples) at
// packet 50, sequence numbers going on; the packet after the jump carries the marker if marked.
func jumped(jump int64, marked bool) []Packet {
	pkts := stream(7, 1000, 90000, 150, regular)
	for i := 50; i < len(pkts); i++ {
		pkts[i].Timestamp += uint32(jump)
	}
	pkts[50].Marker = marked
	return pkts
}

// TestMarkedTimestampJumpPlaysOn: a sender that starts a new run of timestamps under the same
// SSRC (a PBX bridging a transfer or music on hold) and marks its first packet is played on
// without a late packet or a flush, whichever way and however far it jumped. Ahead, it plays
// without a gap. Back, it looks late as a network stall would, so it waits for the next packet
// to confirm: one tick concealed, and one frame dropped later to take the delay back down.
// Before, a second ahead left a second of concealment, a second back lost a second as late,
// and a jump past jumpLimit cost a packet of probation and the queued audio.
func TestMarkedTimestampJumpPlaysOn(t *testing.T) {
	for _, c := range []struct {
		jump int64
		back bool
	}{{8000, false}, {2400, false}, {10 * 8000, false}, {-8000, true}, {-2400, true}, {-5 * 8000, true}, {1 << 31, true}} {
		for _, policy := range []JitterPolicy{PolicyPeak, PolicyJitterMultiple} {
			jb := NewJitterBuffer(JitterConfig{Policy: policy})
			ticks := simulate(t, jb, jumped(c.jump, true), t0.Add(9*time.Millisecond), 170)
			s := jb.Stats()
			concealed := countStatus(activeSpan(ticks), Missing) + countStatus(activeSpan(ticks), Inserted)
			most, gapMost := 0, tick
			if c.back {
				most, gapMost = 1, 2*tick
			}
			if got := playedSeqs(ticks); len(got)+int(s.Discarded) != 150 || !slices.Equal(got[:51], seqRange(1000, 51)) {
				t.Fatalf("jump %d, %v: played %v", c.jump, policy, got)
			}
			if concealed > most || s.Discarded > uint64(most) || s.Late != 0 || s.Dropped != 0 || s.Resyncs != 1 {
				t.Fatalf("jump %d, %v: %d ticks concealed, stats %+v", c.jump, policy, concealed, s)
			}
			if gap := playedAt(ticks, 1050).Sub(playedAt(ticks, 1049)); gap > gapMost {
				t.Fatalf("jump %d, %v: %v between the packets either side of the jump, want at most %v", c.jump, policy, gap, gapMost)
			}
			if s.Delay > 40*time.Millisecond {
				t.Fatalf("jump %d, %v: target %v: the jump was taken for jitter", c.jump, policy, s.Delay)
			}
		}
	}
}

// TestMarkedJumpBackAfterALongPause: a talkspurt, a pause long enough to stop the playout, and
// a marked new run whose timestamps went back: it plays. Before the floor the stop left, it
// was late, and so was everything after it for a second.
func TestMarkedJumpBackAfterALongPause(t *testing.T) {
	for _, policy := range []JitterPolicy{PolicyPeak, PolicyJitterMultiple} {
		a := stream(1, 0, 80000, 50, regular)
		b := stream(1, 50, 80000+100*160-8000, 50, func(i int) time.Time { return regular(100 + i) }) // a second back
		b[0].Marker = true
		jb := NewJitterBuffer(JitterConfig{Policy: policy})
		ticks := simulate(t, jb, append(a, b...), t0.Add(9*time.Millisecond), 170)
		if got := playedSeqs(ticks); !slices.Equal(got, seqRange(0, 100)) {
			t.Fatalf("%v: played %v, stats %+v", policy, got, jb.Stats())
		}
		if s := jb.Stats(); s.Late != 0 || s.Resyncs != 1 {
			t.Fatalf("%v: stats %+v", policy, s)
		}
	}
}

// TestMarkedJumpWithAStraggler: a packet from before the jump that comes after the marked one
// (reordered at the switch) is read on the old timeline: it plays or counts late there, and
// the new run plays on. Read relative to the new run it looked a second early (or late), which
// took the base with it: the buffer flushed and the new run went late for a second. Nor does
// it, or a copy of the marked packet, decide a jump back that waits for confirmation.
func TestMarkedJumpWithAStraggler(t *testing.T) {
	for _, jump := range []int64{-8000, -12000, 8000} {
		for _, policy := range []JitterPolicy{PolicyPeak, PolicyJitterMultiple} {
			dup := jumped(jump, true)
			dup = append(dup, dup[50])
			dup[len(dup)-1].Arrival = dup[50].Arrival.Add(2 * time.Millisecond)
			jb := NewJitterBuffer(JitterConfig{Policy: policy})
			ticks := simulate(t, jb, dup, t0.Add(9*time.Millisecond), 170)
			if s := jb.Stats(); len(playedSeqs(ticks)) < 148 || s.Late != 0 || s.Duplicate != 1 || s.Resyncs != 1 {
				t.Fatalf("jump %d, %v, the marked packet twice: played %d, stats %+v", jump, policy, len(playedSeqs(ticks)), s)
			}

			for _, after := range []int{50, 51} { // after the marked packet; after the one confirming it
				pkts := jumped(jump, true)
				pkts[49].Arrival = pkts[after].Arrival.Add(5 * time.Millisecond)
				jb = NewJitterBuffer(JitterConfig{Policy: policy})
				ticks = simulate(t, jb, pkts, t0.Add(9*time.Millisecond), 170)
				s := jb.Stats()
				if got := playedSeqs(ticks); len(got) < 147 || s.Late > 1 || s.Discarded > 1 || s.Dropped != 0 {
					t.Fatalf("jump %d, %v, straggler after %d: played %d packets, stats %+v", jump, policy, after, len(got), s)
				}
				if s.Delay > 60*time.Millisecond {
					t.Fatalf("jump %d, %v, straggler after %d: target %v after one reordered packet", jump, policy, after, s.Delay)
				}
			}
		}
	}
}

// TestUnmarkedTimestampJumpIsNotRebased: without the marker a jump within jumpLimit is not
// taken for a new run (it may be the sender's silence, or the network): a second ahead still
// leaves a gap (the buffer skips what it can of it as the sender's silence), as before. It is
// the marker that says the sender moved.
func TestUnmarkedTimestampJumpIsNotRebased(t *testing.T) {
	jb := NewJitterBuffer(JitterConfig{})
	ticks := simulate(t, jb, jumped(8000, false), t0.Add(9*time.Millisecond), 230)
	if gap := playedAt(ticks, 1050).Sub(playedAt(ticks, 1049)); jb.Stats().Resyncs != 0 || gap < 10*tick {
		t.Fatalf("stats %+v, %v between the packets either side of the jump: an unmarked jump was rebased", jb.Stats(), gap)
	}
}

// TestMarkedTalkspurtKeepsItsTiming: the marked first packet of a talkspurt after silence
// suppression whose timestamps are right plays exactly as it would without the marker, and
// nothing counts as a resync: when it comes a little early or late; when the last packet
// before the pause came very late (the jump is judged against the fastest packets, not the
// last one); and when the network holds it and the packets after it back for 400 ms and then
// delivers them in a burst (a Wi-Fi stall: the next packet does not confirm a new timing).
func TestMarkedTalkspurtKeepsItsTiming(t *testing.T) {
	type arrivals func(a, b []Packet)
	shift := func(d time.Duration) arrivals {
		return func(_, b []Packet) {
			for i := range b {
				b[i].Arrival = b[i].Arrival.Add(d)
			}
		}
	}
	// stall holds the talkspurt's first packets back by d and then delivers them 0.2 ms apart.
	stall := func(d time.Duration) arrivals {
		return func(_, b []Packet) {
			at := b[0].Arrival.Add(d)
			for i := 0; i < len(b) && b[i].Arrival.Before(at); i++ {
				b[i].Arrival = at.Add(time.Duration(i) * 200 * time.Microsecond)
			}
		}
	}
	for _, c := range []struct {
		name   string
		pause  int // frames of silence between the talkspurts
		arrive arrivals
	}{
		{"on time", 8, shift(0)},
		{"30 ms late", 8, shift(30 * time.Millisecond)},
		{"15 ms early", 8, shift(-15 * time.Millisecond)},
		{"after a packet 150 ms late", 30, func(a, _ []Packet) { a[49].Arrival = a[49].Arrival.Add(150 * time.Millisecond) }},
		{"after a packet 400 ms late", 30, func(a, _ []Packet) { a[49].Arrival = a[49].Arrival.Add(400 * time.Millisecond) }},
		{"held 400 ms by the network, then a burst", 8, stall(405 * time.Millisecond)},
		{"held 200 ms by the network while playing, then a burst", 2, stall(205 * time.Millisecond)},
	} {
		for _, policy := range []JitterPolicy{PolicyPeak, PolicyJitterMultiple} {
			var played [2][]tickResult
			var stats [2]JitterStats
			for i, marked := range []bool{false, true} {
				a := stream(1, 0, 0, 50, regular)
				b := stream(1, 50, uint32(50+c.pause)*160, 50, func(i int) time.Time { return regular(50 + c.pause + i) })
				c.arrive(a, b)
				b[0].Marker = marked
				jb := NewJitterBuffer(JitterConfig{Policy: policy, MinDelay: 60 * time.Millisecond})
				played[i] = simulate(t, jb, append(a, b...), t0.Add(9*time.Millisecond), 160)
				stats[i] = jb.Stats()
			}
			if stats[1].Resyncs != 0 {
				t.Fatalf("%s, %v: stats %+v: a resync", c.name, policy, stats[1])
			}
			if !slices.Equal(played[0], played[1]) {
				t.Fatalf("%s, %v: the marker changed the playout:\n%v\n%v", c.name, policy, played[0], played[1])
			}
		}
	}
}

// playedAt is when seq played; the zero time if it did not.
func playedAt(ticks []tickResult, seq uint16) time.Time {
	for _, r := range ticks {
		if r.status == Played && r.seq == seq {
			return r.at
		}
	}
	return time.Time{}
}
