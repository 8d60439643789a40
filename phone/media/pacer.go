package media

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The shared pacer: one timer for every real-clock session of the process instead of a
// goroutine and a timer per call. At each tick its goroutine takes the list of sessions due
// (a phase's: every 20 ms for a few calls, every 5 ms for a quarter of many, pacer_phase.go)
// and paces them itself or, when there are many, splits it in shares among a few worker
// goroutines (one per processor): every session's frames due are sent, then every session's
// RTP is drained (one recvmmsg), its frames played, its reports and keep-alives sent when
// theirs are due. A thousand calls then cost a thousand system calls each way a tick and a
// couple of goroutine switches, where a pacer per call woke a thousand goroutines, each
// reading its own timer. Frames are due on their phase's slots of the timer's grid, so how
// late each one's RTP leaves measures the pacer: ReadPacerStats (pacer_stats.go).
//
// Sessions join at Start and leave at Close; when the last leaves, the pacer stops its timer
// and goroutines (an idle process has no pacer wakeups at all), and the next Start starts
// them again. Sessions whose Config injects a clock or a ticker (tests), and systems without
// timerfd, keep a pacer goroutine of their own (Session.pace).

// pacer paces the process's real-clock sessions.
var pacer = &sharedPacer{stats: new(pacerStats)}

// errSessionClosed: Start lost the race with Close, nothing is to be paced.
var errSessionClosed = errors.New("media: session closed")

const (
	// maxPacerWorkers bounds the workers of a tick, whatever GOMAXPROCS says.
	maxPacerWorkers = 16
	// minPacerShare is how many sessions one worker paces before another is woken: a handful
	// of calls is cheaper on one goroutine than split, and wakes the process once a tick.
	minPacerShare = 64
)

type sharedPacer struct {
	mu    sync.Mutex // serialises add and remove, so a run starts and stops whole
	run   *pacerRun  // nil while no session is paced
	stats *pacerStats
	// rb is the last run's own receive buffers (14 KB), kept for the next: a phone that takes
	// one call after another starts a run a call, and need not allocate them each time.
	rb *recvBatch
}

// add makes the pacer pace s from its next tick, starting the timer and goroutines if s is
// the only session.
func (p *sharedPacer) add(s *Session) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-s.done: // Close has run or is running: it removed nothing, so add nothing
		return errSessionClosed
	default:
	}
	if p.run == nil {
		grid := time.Now() // just before the timer is armed: its ticks fall every 20 ms from here
		t, err := newFrameTimer(frameDur)
		if err != nil {
			return fmt.Errorf("shared pacer: %w", err)
		}
		p.run = newPacerRun(p.stats, grid, runtime.GOMAXPROCS(0))
		p.run.workers[0].rb, p.rb = p.rb, nil
		p.run.startTimer(t)
	}
	p.run.add(s, time.Now())
	p.stats.sessions.Add(1)
	return nil
}

// remove stops pacing s; a tick inside s's frame finishes it first. Stopping the last
// session stops the timer and waits for the goroutines to end. A session the pacer does not
// pace is ignored. Only the list change and a stop hold p.mu: a session whose frame is slow
// (a sink that blocks) holds up its own Close, not everyone's Start and Close. With io_uring
// batches (sendq_linux.go), Close also waits for the send passes of the shares in progress,
// and a source that blocks in one of them holds up every Close meanwhile.
func (p *sharedPacer) remove(s *Session) {
	p.mu.Lock()
	if p.run == nil || !p.run.remove(s) {
		p.mu.Unlock()
		return
	}
	p.stats.sessions.Add(-1)
	if p.run.empty() {
		p.run.stop() // waits for the tick in progress, s's frame with it
		p.rb, p.run = p.run.workers[0].rb, nil
	}
	run := p.run
	p.mu.Unlock()
	if run != nil {
		// No datagram queued for s may leave after its socket closes: wait for the shares
		// whose sends are not yet flushed (sendq_linux.go).
		run.flushMu.Lock()
		defer run.flushMu.Unlock()
	}
	s.frameMu.Lock() // a tick that took the list before s left skips it from now on
	s.paced = nil
	s.frameMu.Unlock()
}

// retime re-arms the timer for s's new parameters if the run paces s: its packets came to fall
// between ticks, or no longer do (Session.between).
func (p *sharedPacer) retime(s *Session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil {
		return
	}
	p.run.moveMu.Lock()
	defer p.run.moveMu.Unlock()
	p.run.retime(s.log)
}

// pacerRun is the pacer from the first session's Start to the last one's Close: the timer,
// the goroutines and the lists of sessions, one a phase (pacer_phase.go).
type pacerRun struct {
	stats *pacerStats
	// moveMu serialises changes of the lists and the grid: add and remove (under
	// sharedPacer.mu) and the tick goroutine moving sessions' ticks (pacer_move.go).
	moveMu sync.Mutex
	// grid: slots fall due every phaseDur from here, phase 0's every frameDur. Only the tick
	// goroutine changes it (moving a lone session's ticks, pacer_move.go), under moveMu; add
	// and retime read it under moveMu.
	grid  time.Time
	timer *frameTimer // nil when something else calls tick (tests, benchmarks)
	// lists are the sessions paced, one list a phase, each replaced (never changed in place)
	// by add and remove, so a tick reads them without a lock; a session removed after a tick
	// took its list is skipped because its paced state is gone.
	lists [phases]atomic.Pointer[[]*Session]
	// served is the last slot a tick served; only the tick goroutine (or the test driving
	// tick) uses it.
	served int64
	// rehome: the one session left is not on phase 0, so the timer ticks every 5 ms for it;
	// the next tick moves the grid under it (pacer_move.go).
	rehome atomic.Bool
	// spare, listHdr and flip let moves rebuild lists without allocating (pacerRun.rebuilt);
	// used under moveMu on the tick goroutine only.
	spare   [phases][]*Session
	listHdr [phases][2][]*Session
	flip    [phases]int
	// period is the timer's period, frameDur, halfFrame or phaseDur; written under moveMu.
	period atomic.Int64
	// flushMu is held for reading by each worker from its share's first queued send until
	// the queue is flushed (sendq_linux.go); removing a session takes it for writing once, so
	// that no datagram queued for the session is sent after its socket closed, on a number
	// the kernel may have given to another socket.
	flushMu sync.RWMutex
	// workers[0] is the tick goroutine's own, for a tick small enough for one share; the
	// others have goroutines, up to one per processor (procs), and take every share of a
	// larger tick. They start when a tick first needs them: a phone with a few calls has none.
	workers  []*pacerWorker
	procs    int
	pending  sync.WaitGroup // the shares of the tick in progress handed to other workers
	wg       sync.WaitGroup // the workers' goroutines
	loopDone chan struct{}  // closed when the tick goroutine has ended
}

// pacerWorker is one share's state: its receive buffers, io_uring queues and lateness histogram.
type pacerWorker struct {
	rb   *recvBatch // allocated by the first pace that needs it
	sq   *sendQueue // made by the first share of batchMinSessions; nil where io_uring is refused
	rq   *recvQueue // the same, for reading
	late *lateHist
	wake chan pacerShare // nil for worker 0, which the tick goroutine runs itself
	// moves are the sessions of this tick's share that offered to move their ticks earlier
	// (pacer_move.go); the tick goroutine applies and clears them once every share is done.
	moves []phaseMove
}

type pacerShare struct {
	sessions []*Session
	now      time.Time
}

func newPacerRun(stats *pacerStats, grid time.Time, procs int) *pacerRun {
	r := &pacerRun{stats: stats, grid: grid}
	for i := range r.lists {
		empty := []*Session{}
		r.lists[i].Store(&empty)
	}
	r.period.Store(int64(frameDur))
	r.workers = []*pacerWorker{{late: &stats.late[0]}}
	if procs = min(procs, maxPacerWorkers-1); procs > 1 {
		r.procs = procs
	}
	return r
}

// startWorkers makes sure k worker goroutines run. Only the tick goroutine calls it (or the
// test driving tick), so stop, which runs after the tick goroutine has ended, sees them all.
func (r *pacerRun) startWorkers(k int) {
	for i := len(r.workers); i <= k; i++ {
		w := &pacerWorker{late: &r.stats.late[i], wake: make(chan pacerShare, 1)}
		r.workers = append(r.workers, w)
		r.wg.Add(1)
		go r.work(w)
	}
}

// startTimer makes t drive the ticks.
func (r *pacerRun) startTimer(t *frameTimer) {
	r.timer, r.loopDone = t, make(chan struct{})
	go r.loop()
}

func (r *pacerRun) loop() {
	defer close(r.loopDone)
	for r.timer.wait() {
		r.tick(time.Now())
	}
}

func (r *pacerRun) work(w *pacerWorker) {
	defer r.wg.Done()
	for share := range w.wake {
		w.pace(r, share.sessions, share.now)
		r.pending.Done()
	}
}

// stop ends the timer, then the workers, and waits for all of them.
func (r *pacerRun) stop() {
	if r.timer != nil {
		r.timer.close()
		<-r.loopDone // no tick hands out work after this
	}
	for _, w := range r.workers[1:] {
		close(w.wake)
	}
	r.wg.Wait()
	for _, w := range r.workers {
		w.sq.close()
		w.rq.close()
	}
}

// tick serves, at now, the slots that fell due since the last tick (pacer_phase.go), then
// counts an overrun if that took longer than the timer's period.
func (r *pacerRun) tick(now time.Time) {
	if !r.serveSlots(now) {
		return
	}
	r.applyMoves()
	if time.Since(now) > time.Duration(r.period.Load()) {
		r.stats.overruns.Add(1)
	}
}

// paceList paces every session of list once at now and returns when all are done. A few
// sessions are paced by the tick goroutine itself; more are split in equal shares among the
// worker goroutines while it waits. (It does not take a share itself: a goroutine it wakes runs
// on its processor's next slot, so would wait for that share to end before another processor
// took it: the shares would run one after the other.)
func (r *pacerRun) paceList(list []*Session, now time.Time) {
	n := len(list)
	if n == 0 {
		return
	}
	if k := min(r.procs, (n+minPacerShare-1)/minPacerShare); k <= 1 {
		r.workers[0].pace(r, list, now)
	} else {
		r.startWorkers(k)
		r.pending.Add(k)
		for i := range k {
			r.workers[1+i].wake <- pacerShare{sessions: list[i*n/k : (i+1)*n/k], now: now}
		}
		r.pending.Wait()
	}
}

// add puts s on the list of the phase it joins (pacer_phase.go) with a schedule whose first
// frame is due at that phase's next slot, and re-arms the timer if the period must change.
// The caller serialises add and remove (sharedPacer.mu).
func (r *pacerRun) add(s *Session, now time.Time) {
	r.moveMu.Lock()
	defer r.moveMu.Unlock()
	ph := r.phaseFor()
	st := newPaceState(r.phaseGrid(ph), now)
	st.phase, st.run = ph, r
	s.frameMu.Lock()
	s.paced = st
	s.frameMu.Unlock()
	old := *r.lists[ph].Load()
	list := append(old[:len(old):len(old)], s) // a new array: ticks in progress keep theirs
	r.lists[ph].Store(&list)
	r.retime(s.log)
}

// remove takes s off its list; false if s is on none. A tick that took the list before may
// still pace s until s.paced is cleared.
func (r *pacerRun) remove(s *Session) bool {
	r.moveMu.Lock()
	defer r.moveMu.Unlock()
	for ph := range r.lists {
		old := *r.lists[ph].Load()
		if i := slices.Index(old, s); i >= 0 {
			list := slices.Concat(old[:i], old[i+1:])
			r.lists[ph].Store(&list)
			r.retime(s.log)
			if r.count() == 1 && len(*r.lists[0].Load()) == 0 {
				r.rehome.Store(true)
			}
			return true
		}
	}
	return false
}

// waitFlushed returns once the sends the workers queued so far have left (flushMu).
func (r *pacerRun) waitFlushed() {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
}

// empty: no session is paced.
func (r *pacerRun) empty() bool {
	for ph := range r.lists {
		if len(*r.lists[ph].Load()) > 0 {
			return false
		}
	}
	return true
}
