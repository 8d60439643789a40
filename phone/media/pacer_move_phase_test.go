package media

import (
	"testing"
	"time"
)

// offer puts s's offer to move shift earlier on the run's first worker, as offerMove does
// after a concealed frame.
func (r *pacerRun) offer(s *Session, shift time.Duration) {
	r.workers[0].moves = append(r.workers[0].moves, phaseMove{s: s, shift: shift, to: -1})
}

// TestPacerMovesPhases drives a private run's 5 ms ticks by hand with more sessions than
// phase 0 takes and has sessions offer to move (as after a concealed frame): one offering
// 7 ms moves one phase earlier, one offering 12 ms two, one offering 3 ms (less than a phase)
// stays, and one whose slot a phase earlier was served already stays; two more moves later
// (lists rebuilt in the arrays earlier moves left) lose nobody. Before and after,
// every session sends exactly one frame every 20 ms, on its current phase's slots: a moved
// session's next frame leaves once, 5 or 10 ms early, never twice and never skipped.
func TestPacerMovesPhases(t *testing.T) {
	const n = 2*minPacerShare + 8
	// Nobody reads the sockets (no poller): no session plays a packet, so only the offers the
	// test makes move anyone.
	ss := pairedSessions(t, n, false)
	grid := time.Now()
	r := newPacerRun(new(pacerStats), grid, 4)
	defer r.stop()
	for _, s := range ss {
		r.add(s, grid)
	}
	sent := func() []uint64 {
		out := make([]uint64, n)
		for i, s := range ss {
			out[i] = s.Stats().PacketsSent
		}
		return out
	}
	onPhase := func(ph int) []int {
		var out []int
		for i, s := range ss {
			if r.phaseOf(s) == ph {
				out = append(out, i)
			}
		}
		return out
	}
	p2, p3 := onPhase(2), onPhase(3)
	if len(p2) < 3 || len(p3) < 1 {
		t.Fatalf("phases %v: the test needs sessions on phases 2 and 3", r.loads())
	}
	one, two, small, served := p2[0], p2[1], p2[2], p3[0]
	dueOf := func(i int) time.Time { return ss[i].paced.due }
	prev := sent()
	var dueBefore map[int]time.Time
	for slot := 1; slot <= 32; slot++ {
		phaseWas := make([]int, n) // what the tick served, before any move
		for i, s := range ss {
			phaseWas[i] = r.phaseOf(s)
		}
		r.tick(grid.Add(time.Duration(slot) * phaseDur))
		if slot == 10 { // phase 2's slot: its sessions just played
			dueBefore = map[int]time.Time{one: dueOf(one), two: dueOf(two), small: dueOf(small), served: dueOf(served)}
			r.offer(ss[one], 7*time.Millisecond)
			r.offer(ss[two], 12*time.Millisecond)
			r.offer(ss[small], 3*time.Millisecond)
			// Phase 3's next slot is slot 11, a phase earlier is slot 10: served already.
			r.offer(ss[served], 6*time.Millisecond)
			r.applyMoves()
			for i, want := range map[int]int{one: 1, two: 0, small: 2, served: 3} {
				if ph, st := r.phaseOf(ss[i]), ss[i].paced; ph != want || st.phase != want {
					t.Fatalf("session %d after its offer: on phase %d (state %d), want %d", i, ph, st.phase, want)
				}
			}
			for i, early := range map[int]time.Duration{one: phaseDur, two: 2 * phaseDur, small: 0, served: 0} {
				if got := dueBefore[i].Sub(dueOf(i)); got != early {
					t.Fatalf("session %d: next frame due %v earlier, want %v", i, got, early)
				}
			}
			if len(r.workers[0].moves) != 0 {
				t.Fatal("offers left after the tick applied them")
			}
		}
		if slot == 18 || slot == 21 { // more moves, into arrays earlier moves left (rebuilt)
			i, want := small, 1 // slot 18 is phase 2's
			if slot == 21 {
				i, want = one, 0 // slot 21 is phase 1's, where one is now
			}
			r.offer(ss[i], 6*time.Millisecond)
			r.applyMoves()
			if ph := r.phaseOf(ss[i]); ph != want {
				t.Fatalf("slot %d: session %d on phase %d after its offer, want %d", slot, i, ph, want)
			}
		}
		now := sent()
		for i := range ss {
			want := uint64(0)
			if slot%phases == phaseWas[i] {
				want = 1
			}
			if got := now[i] - prev[i]; got != want {
				t.Fatalf("slot %d: session %d (phase %d) sent %d, want %d", slot, i, phaseWas[i], got, want)
			}
		}
		prev = now
	}
	if got := r.stats.moves.Load(); got != 4 {
		t.Fatalf("%d moves counted, want 4", got)
	}
	if l := r.loads(); l[0]+l[1]+l[2]+l[3] != n {
		t.Fatalf("phases hold %v, %d sessions in all, want %d", l, l[0]+l[1]+l[2]+l[3], n)
	}
	if time.Duration(r.period.Load()) != phaseDur {
		t.Fatalf("period %v with sessions on every phase", time.Duration(r.period.Load()))
	}

	// Everyone but a session on phase 1 leaves: the next tick puts it on phase 0 of a grid
	// moved under it (its frames keep their times) and the timer back to one expiry a frame.
	last := small
	for i, s := range ss {
		if i != last {
			r.remove(s)
		}
	}
	due, moves := dueOf(last), r.stats.moves.Load()
	r.tick(grid.Add(33 * phaseDur)) // phase 1's slot
	if ph := r.phaseOf(ss[last]); ph != 0 || time.Duration(r.period.Load()) != frameDur {
		t.Fatalf("the lone session left is on phase %d, period %v; want 0, %v", ph, time.Duration(r.period.Load()), frameDur)
	}
	// Its frames keep their times, unless it concealed a frame at that tick (its peer has
	// stopped) and moved as well: then by less than a frame, and counted.
	next := dueOf(last)
	if moved := r.stats.moves.Load() != moves; next.Sub(due) <= 0 || next.Sub(due) > frameDur || moved != (next.Sub(due) < frameDur) {
		t.Fatalf("lone session's next frame due %v after its last (moved: %v), want %v or a move", next.Sub(due), moved, frameDur)
	}
	if next.Sub(r.grid)%frameDur != 0 || r.served != int64(next.Sub(r.grid)/phaseDur)-1 {
		t.Fatalf("grid %v, served %d: the lone session's next frame is not the next phase-0 slot", next.Sub(r.grid), r.served)
	}
	before := ss[last].Stats().PacketsSent
	r.tick(next.Add(-time.Millisecond)) // just before its next frame: nothing
	r.tick(next)
	if d := ss[last].Stats().PacketsSent - before; d != 1 {
		t.Fatalf("lone session sent %d frames at its next slot, want 1", d)
	}
}

// TestPacerFewSessionsKeepTheirTicks: a handful of sessions, all on phase 0 and the timer at
// 20 ms, do not move: moving one would make the timer tick every 5 ms for all of them.
func TestPacerFewSessionsKeepTheirTicks(t *testing.T) {
	ss := pairedSessions(t, 2, false)
	grid := time.Now()
	r := newPacerRun(new(pacerStats), grid, 1)
	defer r.stop()
	for _, s := range ss {
		r.add(s, grid)
	}
	r.tick(grid.Add(frameDur))
	due := ss[0].paced.due
	r.offer(ss[0], 15*time.Millisecond)
	r.applyMoves()
	if ph, got := r.phaseOf(ss[0]), ss[0].paced.due; ph != 0 || !got.Equal(due) || time.Duration(r.period.Load()) != frameDur || r.stats.moves.Load() != 0 {
		t.Fatalf("after an offer with two sessions: phase %d, due moved %v, period %v, %d moves", ph, due.Sub(got), time.Duration(r.period.Load()), r.stats.moves.Load())
	}
}
