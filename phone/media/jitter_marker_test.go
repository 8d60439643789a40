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
// without a gap, a late packet or a flush, whichever way and however far it jumped. Before,
// a second ahead left a second of concealment, a second back lost a second as late, and a
// jump past jumpLimit cost a packet of probation and the queued audio.
func TestMarkedTimestampJumpPlaysOn(t *testing.T) {
	for _, jump := range []int64{8000, -8000, 2400, -2400, 10 * 8000, -5 * 8000, 1 << 31} {
		for _, policy := range []JitterPolicy{PolicyPeak, PolicyJitterMultiple} {
			jb := NewJitterBuffer(JitterConfig{Policy: policy})
			ticks := simulate(t, jb, jumped(jump, true), t0.Add(9*time.Millisecond), 170)
			if got := playedSeqs(ticks); !slices.Equal(got, seqRange(1000, 150)) {
				t.Fatalf("jump %d, %v: played %v", jump, policy, got)
			}
			s := jb.Stats()
			if n := countStatus(activeSpan(ticks), Missing) + countStatus(activeSpan(ticks), Inserted); n != 0 || s.Late != 0 || s.Discarded != 0 || s.Dropped != 0 || s.Resyncs != 1 {
				t.Fatalf("jump %d, %v: %d ticks concealed, stats %+v", jump, policy, n, s)
			}
			if gap := playedAt(ticks, 1050).Sub(playedAt(ticks, 1049)); gap != tick {
				t.Fatalf("jump %d, %v: %v between the packets either side of the jump, want %v", jump, policy, gap, tick)
			}
			if s.Delay > 40*time.Millisecond {
				t.Fatalf("jump %d, %v: target %v: the jump was taken for jitter", jump, policy, s.Delay)
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
// suppression whose timing matches its timestamps (within the jitter) is not moved: it plays
// exactly as it would without the marker, and nothing counts as a resync.
func TestMarkedTalkspurtKeepsItsTiming(t *testing.T) {
	for _, late := range []time.Duration{0, 30 * time.Millisecond, -15 * time.Millisecond} {
		var played [2][]tickResult
		for i, marked := range []bool{false, true} {
			a := stream(1, 0, 0, 50, regular)
			b := stream(1, 50, 50*160+8*160, 50, func(i int) time.Time { return regular(58 + i).Add(late) })
			b[0].Marker = marked
			jb := NewJitterBuffer(JitterConfig{MinDelay: 60 * time.Millisecond})
			played[i] = simulate(t, jb, append(a, b...), t0.Add(9*time.Millisecond), 130)
			if s := jb.Stats(); s.Resyncs != 0 {
				t.Fatalf("late %v, marked %v: stats %+v", late, marked, s)
			}
		}
		if !slices.Equal(played[0], played[1]) {
			t.Fatalf("late %v: the marker changed the playout:\n%v\n%v", late, played[0], played[1])
		}
		if got := playedSeqs(played[1]); !slices.Equal(got, seqRange(0, 100)) {
			t.Fatalf("late %v: played %v", late, got)
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
