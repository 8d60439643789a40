package media

import (
	"slices"
	"time"
)

// Moving a session's ticks. Playout happens on the pacer's ticks, and where they fall against
// the arrivals adds 0–20 ms to what the jitter buffer wants (jitter_phase.go). After a frame
// that was concealment or silence, where a shorter frame is not heard, the receiver offers to
// have its next tick come earlier (receiver.phaseShift); the pacer takes the offer, less
// phaseMargin, once the tick's shares are done (applyMoves, on the tick goroutine):
//
//   - A lone session moves the run's grid: the timer is re-armed so that its next expiry is the
//     session's next frame, now d earlier, and keeps one wakeup a frame.
//   - With many sessions (the timer ticks every 5 ms anyway) a session changes phase: d is
//     rounded down to whole phases, and the session joins the list of the phase d earlier.
//   - With a few sessions all on phase 0 (the timer at 20 ms) nobody moves: moving one to
//     another phase would wake the process four times a frame for a handful of calls.
//
// The session's send schedule moves with its ticks (paceState.due and grid), so its next RTP
// leaves d early, once: no frame is skipped, none sent twice. Audio that goes on to a queue of
// its own (a sound device's ring) would only wait there d longer; queueTrimmer drops d of the
// concealment just queued so the device plays the next frame d sooner. The microphone is read
// d earlier too: its blocks must have brought a whole frame by then, or the Read would come up
// short and send a frame of silence; sourceAhead bounds d by when they do.

const (
	// phaseMargin is what a move keeps of the buffer's PhaseSlack, for arrivals slower than
	// recent history: measured with the JitterImpaired bench (docs/BENCHMARKS.md), 3 ms
	// keeps late loss at about a third of a percent where 0 ms lost 0.8–1.3 %.
	phaseMargin = 3 * time.Millisecond
	// loneStep: a lone session's ticks move in whole milliseconds (the timer could do finer,
	// the arrivals' own noise is coarser).
	loneStep = time.Millisecond
)

// queueTrimmer is a Sink with a queue of its own between Write and the speaker (a sound
// device's ring). When a session's ticks move d earlier, its next frame reaches that queue d
// earlier and would only wait there d longer: TrimQueued(samples) drops up to samples (at the sink's rate)
// of the newest audio queued (the concealment just written) and reports how many it dropped.
type queueTrimmer interface {
	TrimQueued(samples int) int // samples at the rate of the frames the sink is written
}

// sourceAhead is a Source with a queue of its own (a microphone's ring): Ahead is how much
// earlier than next the next Read could come and still find a whole frame.
type sourceAhead interface {
	Ahead(next time.Time) time.Duration
}

// phaseMove is a session's offer to have its next tick come shift earlier.
type phaseMove struct {
	s        *Session
	shift    time.Duration // phaseShift less phaseMargin
	from, to int           // movePhases: the lists left and joined, to < 0 if it did not move
}

// offerMove records, after s played at this tick, its offer to move its ticks, if any. The
// caller holds s.frameMu.
func (w *pacerWorker) offerMove(s *Session) {
	if sh := s.rx.phaseShift() - phaseMargin; sh >= loneStep {
		w.moves = append(w.moves, phaseMove{s: s, shift: sh, to: -1})
	}
}

// count is how many sessions are paced. The caller holds moveMu, or drives the run alone.
func (r *pacerRun) count() int {
	n := 0
	for ph := range r.lists {
		n += len(*r.lists[ph].Load())
	}
	return n
}

// applyMoves moves the ticks of the sessions that offered to at this tick, and puts a lone
// session left on another phase back on phase 0. Only the tick goroutine calls it, after every
// share of the tick is done.
func (r *pacerRun) applyMoves() {
	n := 0
	for _, w := range r.workers {
		n += len(w.moves)
	}
	if n == 0 && !r.rehome.Load() {
		return
	}
	r.moveMu.Lock()
	defer r.moveMu.Unlock()
	r.rehome.Store(false) // if a session joined since, there is no lone session to rehome
	switch {
	case r.count() == 1:
		r.moveLone()
	case time.Duration(r.period.Load()) == phaseDur:
		r.movePhases()
	}
	for _, w := range r.workers {
		clear(w.moves) // no session kept alive by a stale offer
		w.moves = w.moves[:0]
	}
}

// moveLone moves the run's only session's ticks by its offer (if it made one), on to phase 0
// of a grid under them, and re-arms the timer for its next frame. The caller holds moveMu.
func (r *pacerRun) moveLone() {
	var s *Session
	for ph := range r.lists {
		if l := *r.lists[ph].Load(); len(l) == 1 {
			s = l[0]
		}
	}
	var shift time.Duration
	for _, w := range r.workers {
		for _, m := range w.moves {
			if m.s == s {
				shift = m.shift / loneStep * loneStep
			}
		}
	}
	s.frameMu.Lock()
	defer s.frameMu.Unlock()
	st := s.paced
	if st == nil {
		return
	}
	shift = s.boundShift(shift, st.due)
	if shift <= 0 && st.phase == 0 {
		return
	}
	st.due, st.grid = st.due.Add(-shift), st.grid.Add(-shift)
	s.tx.pack.shift(-shift) // packets held for their time leave as much earlier (tx_pack.go)
	if st.phase != 0 {
		lone, empty := []*Session{s}, []*Session{}
		r.lists[st.phase].Store(&empty)
		r.lists[0].Store(&lone)
		st.phase = 0
	}
	r.grid = st.grid
	// Its next frame's slot is the next to serve, or, if its packets fall between ticks
	// (tx_pack.go), the visit half a frame before it: the timer then ticks every half frame.
	want, next := r.wantPeriod(), st.due
	if want == halfFrame {
		next = next.Add(-halfFrame)
	}
	r.served = int64(next.Sub(r.grid)/phaseDur) - 1
	r.period.Store(int64(want))
	if r.timer != nil {
		if err := r.timer.rearm(want, next); err != nil {
			// The old grid's ticks go on: each finds the session's frame due (shift ago).
			s.log.Warn("media: shared pacer: moving the timer", "err", err)
		}
	}
	if shift > 0 {
		r.stats.moves.Add(1)
		s.trimSink(shift)
	}
}

// movePhases moves each session that offered at least a phase to the phase that many phases
// earlier, unless that phase's slot was served already. The caller holds moveMu.
func (r *pacerRun) movePhases() {
	var touched [phases]bool
	var moved *Session // one of them, whose logger retime uses
	for _, w := range r.workers {
		for i := range w.moves {
			m := &w.moves[i]
			k := int64(m.shift / phaseDur)
			if k == 0 {
				continue
			}
			s := m.s
			s.frameMu.Lock()
			if st := s.paced; st != nil && slices.Contains(*r.lists[st.phase].Load(), s) {
				k = min(k, int64(st.due.Sub(r.grid)/phaseDur)-r.served-1) // the new slot is still to come
				k = int64(s.boundShift(time.Duration(k)*phaseDur, st.due) / phaseDur)
				if k > 0 {
					d := time.Duration(k) * phaseDur
					st.due, st.grid = st.due.Add(-d), st.grid.Add(-d)
					s.tx.pack.shift(-d)
					m.from, m.to = st.phase, (st.phase-int(k)%phases+phases)%phases
					st.phase = m.to
					touched[m.from], touched[m.to] = true, true
					moved = s
					r.stats.moves.Add(1)
					s.trimSink(d)
				}
			}
			s.frameMu.Unlock()
		}
	}
	if moved == nil {
		return
	}
	for ph := range phases {
		if touched[ph] {
			r.lists[ph].Store(r.rebuilt(ph))
		}
	}
	r.retime(moved.log)
}

// rebuilt is phase ph's list after this tick's moves, in another array than the one ticks
// have been reading (they read lists without a lock). It reuses the array a rebuild replaced
// before, so that moves allocate nothing once the arrays are big enough: nothing can still
// be reading that one, as the ticks that paced it are over (this runs on the tick goroutine)
// and add and remove, which copy lists, wait for moveMu.
func (r *pacerRun) rebuilt(ph int) *[]*Session {
	old := *r.lists[ph].Load()
	list := r.spare[ph][:0]
	if cap(list) < len(old)+phases { // a few more than it holds: sessions that join it
		list = make([]*Session, 0, len(old)+len(old)/4+phases)
	}
	for _, s := range old {
		if !r.movedFrom(s, ph) {
			list = append(list, s)
		}
	}
	for _, w := range r.workers {
		for _, m := range w.moves {
			if m.to == ph {
				list = append(list, m.s)
			}
		}
	}
	clear(old[len(old):cap(old)])
	r.spare[ph] = old
	hdr := &r.listHdr[ph][r.flip[ph]] // the other slot may be what lists[ph] points at now
	r.flip[ph] ^= 1
	*hdr = list
	return hdr
}

func (r *pacerRun) movedFrom(s *Session, ph int) bool {
	for _, w := range r.workers {
		for _, m := range w.moves {
			if m.s == s && m.to >= 0 && m.from == ph {
				return true
			}
		}
	}
	return false
}

// boundShift is shift, or less if the session's microphone could not deliver the frame due
// next that much earlier (sourceAhead). The caller holds s.frameMu.
func (s *Session) boundShift(shift time.Duration, next time.Time) time.Duration {
	if shift <= 0 {
		return 0
	}
	if p := s.current(); p.Send {
		if src, ok := p.Source.(sourceAhead); ok {
			shift = min(shift, max(src.Ahead(next), 0))
		}
	}
	return shift
}

// trimSink tells a sink with a queue of its own (queueTrimmer) that the session's next frame
// comes shift early. The caller holds s.frameMu.
func (s *Session) trimSink(shift time.Duration) {
	p := s.current()
	if q, ok := p.Sink.(queueTrimmer); ok && p.Receive && !s.rx.sinkLost {
		q.TrimQueued(int(shift * time.Duration(s.rx.snk.sinkRate()) / time.Second)) // in the sink's frames' rate
	}
}
