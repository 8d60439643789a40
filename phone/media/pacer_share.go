package media

import "time"

// A worker's share of a tick: the sends of every session first, then the reads and the playout.
// Shares of batchMinSessions or more go through the worker's io_uring queues (sendq_linux.go,
// recvq_linux.go); smaller ones, and every share where io_uring is refused, make a system call
// a datagram.

// pace paces each of sessions at now, unless it left meanwhile: every session's frames due
// are sent first, then every session reads and plays, so that how late a frame leaves depends
// on the sends before it in the share, not on all the work before it.
func (w *pacerWorker) pace(r *pacerRun, sessions []*Session, now time.Time) {
	if w.rb == nil {
		w.rb = new(recvBatch)
	}
	var sq *sendQueue
	if len(sessions) >= batchMinSessions {
		if w.sq == nil {
			w.sq = newSendQueue(w.late, sessions[0].log)
		}
		sq = w.sq // nil where io_uring is refused
	}
	if sq != nil {
		// A session's socket stays open until the datagrams queued for it have left: its
		// Close waits for this send pass (sharedPacer.remove), not for the play pass.
		r.flushMu.RLock()
	}
	for _, s := range sessions {
		s.frameMu.Lock()
		if st := s.paced; st != nil {
			st.sq = sq
			s.sendDue(st, now, w.late)
			st.sq = nil
		}
		s.frameMu.Unlock()
	}
	var rq *recvQueue
	if sq != nil {
		sq.flush()
		r.flushMu.RUnlock()
		if w.rq == nil {
			w.rq = newRecvQueue(sessions[0].log)
		}
		rq = w.rq
	}
	w.readAndPlay(r, rq, sessions, now)
}

// readAndPlay is pace's second pass: with rq (a batched share), the sessions' RTP is read in
// io_uring submissions of recvQueueSessions (recvq_linux.go) and each session takes its
// datagrams, and its recvmmsg the rest if more may be queued; without, each session's recvmmsg
// reads its socket. Then each plays.
func (w *pacerWorker) readAndPlay(r *pacerRun, rq *recvQueue, sessions []*Session, now time.Time) {
	for len(sessions) > 0 {
		chunk := sessions[:min(len(sessions), recvQueueSessions)]
		sessions = sessions[len(chunk):]
		if rq != nil {
			r.flushMu.RLock() // the sockets stay open while the kernel reads them
			rq.read(chunk)
			r.flushMu.RUnlock()
		}
		for i, s := range chunk {
			s.frameMu.Lock()
			if st := s.paced; st != nil {
				st.unflushed = false // the send pass flushed before this one
				rb := w.rb
				if rq != nil && !rq.deliver(i, s, &st.rpkt) {
					rb = nil // read, and nothing more queued
				}
				if s.playDue(st, now, rb) > 0 {
					w.offerMove(s)
				}
			}
			s.frameMu.Unlock()
		}
	}
}
