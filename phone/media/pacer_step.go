package media

import (
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// maxCatchUp is how many frames one tick may send after a stall; a longer stall restarts the
// schedule instead of bursting.
const maxCatchUp = 10

// paceState is what one session's pacing carries from one tick to the next. Whoever paces
// the session (its own goroutine, or a shared pacer's worker) owns it while holding frameMu.
type paceState struct {
	// pcm and out hold a frame of the largest codec (48 kHz), sliced to the current codec's.
	pcm, out [codec.MaxFrameSamples]int16
	buf      [sendBufLen]byte
	pkt      rtp.Packet                            // the frame being sent
	rpkt     rtp.Packet                            // the datagram being received
	rtcp     [rtcpReportMax + srtcpTrailerMax]byte // a report and room for SRTCP to seal it in place
	lastRR   time.Time
	due      time.Time // when the next frame is due
	playAt   time.Time // the due time of the first frame sent but not yet played
	toPlay   int       // frames sent this tick, to be played
	// grid is a slot of the session's phase on the shared pacer's timer (pacer_phase.go),
	// whose slots fall every 20 ms from it: the session's frames are due on them, so how late
	// they leave measures the pacer and not the moment the session started. Zero for a
	// session's own pacer (due counts from Start).
	grid time.Time
	// phase is the list of the shared pacer's run that holds the session (pacer_phase.go);
	// it changes only when the session's ticks move (pacer_move.go).
	phase int
	// sq is the send queue of the worker pacing the session, while its sends are batched
	// with the other sessions' of the share (sendq_linux.go); nil otherwise.
	sq *sendQueue
	// run is the shared pacer's run that paces the session (nil for a session's own pacer);
	// unflushed: a datagram of the session waits in its worker's send queue (set when queued,
	// cleared by the play pass after the flush). Update then waits for the run's flush, and
	// only then: a wait at every Update would hold up every worker's next pass.
	run       *pacerRun
	unflushed bool
}

func newPaceState(grid, now time.Time) *paceState {
	st := &paceState{grid: grid, lastRR: now, due: now}
	if !grid.IsZero() {
		st.due = st.align(now).Add(frameDur) // the phase's first slot after now
	}
	return st
}

// align is the slot at or before now on the session's grid, or now itself without a grid.
func (st *paceState) align(now time.Time) time.Time {
	if st.grid.IsZero() {
		return now
	}
	d := now.Sub(st.grid)
	return st.grid.Add(d - d%frameDur)
}

// step is one tick at now: the frames that fell due are sent, what arrived is read (when the
// pacer reads the socket, with rb), the same frames are played, then RTCP and the keep-alive
// get their turn. The shared pacer runs the two halves as two passes over its sessions, all
// sends first, so a frame's RTP waits for the other sessions' sends only, not for their
// receiving too. The caller holds s.frameMu, so Update waits for a frame in progress.
func (s *Session) step(st *paceState, now time.Time, rb *recvBatch, late *lateHist) {
	s.sendDue(st, now, late)
	s.playDue(st, now, rb)
}

// sendDue sends the frames due at now and counts them for playDue. It keeps its own schedule
// rather than trusting the ticks, which come late or not at all when the process is starved of
// CPU: frames that fell due meanwhile are caught up (up to maxCatchUp at once), so a stall
// shifts audio in time instead of shortening it; a longer stall restarts the schedule. late, if
// not nil, records how late each frame's RTP left against its due time.
func (s *Session) sendDue(st *paceState, now time.Time, late *lateHist) {
	if now.Sub(st.due) > maxCatchUp*frameDur {
		st.due = st.align(now) // stalled too long: don't burst, start over
	}
	st.playAt, st.toPlay = st.due, 0
	for ; st.toPlay < maxCatchUp && !now.Before(st.due); st.toPlay++ {
		queued := st.sq.total() // a queued frame's lateness is taken when it leaves
		s.tx.due = st.due
		if s.tx.sendFrame(s, s.current(), st.pcm[:], st.buf[:], &st.pkt) && late != nil && st.sq.total() == queued {
			late.record(time.Since(st.due))
		}
		st.due = st.due.Add(frameDur)
	}
}

// playDue reads what arrived, plays the frames sendDue sent, and sends RTCP and keep-alives
// when theirs are due. It returns how many frames it played.
func (s *Session) playDue(st *paceState, now time.Time, rb *recvBatch) (played int) {
	if s.poll != nil && rb != nil {
		s.drainRTP(s.poll, rb, &st.rpkt)
	}
	played = st.toPlay
	for ; st.toPlay > 0; st.toPlay-- {
		s.rx.playFrame(s, s.current(), st.playAt, st.out[:])
		st.playAt = st.playAt.Add(frameDur)
	}
	if now.Sub(st.lastRR) >= rtcpInterval {
		st.lastRR = now
		s.sendRTCP(s.current(), now, st.rtcp[:])
	}
	s.keepAlive(s.current(), now)
	return played
}

// pace is a session's own pacer, a goroutine on the Config's ticker: for sessions whose tests
// drive the clock, and where the shared pacer cannot run (no timerfd).
func (s *Session) pace(st *paceState) {
	defer s.wg.Done()
	tick, stop := s.cfg.NewTicker(frameDur)
	defer stop()
	var rb *recvBatch
	if s.poll != nil {
		rb = new(recvBatch)
	}
	for {
		select {
		case <-s.done:
			return
		case <-tick:
		}
		s.frameMu.Lock()
		s.step(st, s.now(), rb, nil)
		s.frameMu.Unlock()
	}
}
