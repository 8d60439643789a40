package media

import (
	"log/slog"
	"time"
)

// Phases spread a large load over the frame period. Every session's frames are due every
// 20 ms, but not all at the same instant: a session belongs to one of `phases` phases,
// phaseDur apart, and its frames are due on its phase's slots (the pacer's grid plus its
// phase's offset, every 20 ms). With a thousand calls on one phase, every tick has all of them
// to send at once and the last frame leaves a whole tick's work late (about 12 ms on two
// cores); spread over four, a tick every 5 ms serves a quarter of them, so a frame waits for a
// quarter of the work, and the machine gets 250 packets every 5 ms instead of 1000 every 20.
//
// Small loads are unchanged: while phase 0 holds fewer than minPacerShare sessions (what one
// goroutine paces in a tick anyway) new sessions join it, and the timer ticks every 20 ms — one
// wakeup a frame for one call. Beyond that a session joins the least loaded phase; the timer
// ticks every 5 ms while any phase but 0 has a session and goes back to 20 ms once they have
// all left. A session keeps its phase unless its playout may move: that shifts its audio in
// time, so it happens only after a concealed or silent frame (pacer_move.go).
//
// A tick serves the slots that fell due since the one before (at most one of each phase), so a
// late or lost timer expiry (a re-arm, a starved process) delays a phase, never skips it; each
// session catches up on its own schedule anyway (sendDue).

const (
	// phases is how many phases the frame period is split into.
	phases = 4
	// phaseDur is how far apart the phases' slots are, and the timer's period while more
	// than phase 0 has sessions.
	phaseDur = frameDur / phases
)

// pacerPhaseCount is how many phases new sessions may join: phases, or 1 to put every session
// on phase 0 as the pacer did before phases (benchmarks compare the two). Set it only while
// no session is paced.
var pacerPhaseCount = phases

// phaseFor is the phase a new session joins: phase 0 while it holds fewer than minPacerShare
// sessions, else the least loaded (the lowest of equals). The caller serialises add and remove.
func (r *pacerRun) phaseFor() int {
	if len(*r.lists[0].Load()) < minPacerShare || pacerPhaseCount <= 1 {
		return 0
	}
	best, load := 0, len(*r.lists[0].Load())
	for ph := 1; ph < min(pacerPhaseCount, phases); ph++ {
		if n := len(*r.lists[ph].Load()); n < load {
			best, load = ph, n
		}
	}
	return best
}

// phaseGrid is a grid for the schedule of a session of phase ph (paceState.grid): a slot of
// that phase one frame before the pacer's grid, so that it is never after now.
func (r *pacerRun) phaseGrid(ph int) time.Time {
	return r.grid.Add(time.Duration(ph)*phaseDur - frameDur)
}

// halfFrame is the timer's period while only phase 0 has sessions and one of them sends
// packets due between its ticks (Session.between): a visit halfway between them too.
const halfFrame = frameDur / 2

// wantPeriod is the timer's period the lists call for: phaseDur while a phase other than 0
// has sessions, else halfFrame while a session's packets fall between ticks, else frameDur.
func (r *pacerRun) wantPeriod() time.Duration {
	for ph := 1; ph < phases; ph++ {
		if len(*r.lists[ph].Load()) > 0 {
			return phaseDur
		}
	}
	for _, s := range *r.lists[0].Load() {
		if s.between.Load() {
			return halfFrame
		}
	}
	return frameDur
}

// retime re-arms the timer when the lists call for another period. The new period's ticks
// start at its latest slot at or before now, which has passed: the timer expires at once and
// the tick serves whatever slot a re-arm may have swallowed (timerfd_settime clears expiries
// not yet read), then ticks on the grid. log is the session's whose add or remove it follows.
// The caller serialises add and remove.
func (r *pacerRun) retime(log *slog.Logger) {
	want := r.wantPeriod()
	if time.Duration(r.period.Load()) == want {
		return
	}
	r.period.Store(int64(want))
	if r.timer == nil {
		return
	}
	d := time.Since(r.grid)
	first := r.grid.Add(d - d%want)
	if err := r.timer.rearm(want, first); err != nil {
		// The timer keeps its old period: at 20 ms the later phases are served late (every
		// tick serves every slot that fell due), at 5 ms phase 0 is woken for nothing.
		log.Warn("media: shared pacer: re-arming the timer", "period", want, "err", err)
	}
}

// serveSlots paces, at now, the phases whose slots fell due since the last call, oldest
// first, each at most once; false if no slot had (a wake with nothing new to do).
func (r *pacerRun) serveSlots(now time.Time) bool {
	cur := int64(now.Sub(r.grid) / phaseDur)
	from := max(r.served+1, cur-phases+1)
	if cur < from {
		return false
	}
	for slot := from; slot <= cur; slot++ {
		r.paceList(*r.lists[slot%phases].Load(), now)
		r.sendBetween(*r.lists[(slot+phases/2)%phases].Load())
	}
	r.served = cur
	return true
}

// sendBetween visits the sessions of list whose packets fall between ticks (Session.between)
// halfway between two of their ticks, where a slot of the phase half a frame after theirs is:
// the packets due then leave (tx_pack.go). Such sessions are few (G.711 at 10, 30 or 50 ms),
// so the tick goroutine sends theirs itself, one system call each.
func (r *pacerRun) sendBetween(list []*Session) {
	for _, s := range list {
		if !s.between.Load() {
			continue
		}
		s.frameMu.Lock()
		if st := s.paced; st != nil {
			// Its last tick was half a frame ago, so its next is due half a frame from now.
			at := st.due.Add(-halfFrame)
			if s.tx.sendHeld(s, s.current(), &st.pkt, st.buf[:], at) {
				r.workers[0].late.record(time.Since(at))
			}
		}
		s.frameMu.Unlock()
	}
}
