package media

import (
	"log/slog"
	"math"
	"syscall"

	"github.com/pion/rtp"
)

// recvQueue reads a share's RTP in io_uring submissions, where each session took a recvmmsg of
// its own (rawudp_poll_linux.go): a submission asks for two datagrams from each of up to
// recvQueueSessions sessions, each a recvmsg with MSG_DONTWAIT that the kernel completes inside
// the call, with the datagram's arrival time (SO_TIMESTAMPNS) as before. A call's steady state
// brings one datagram a tick, so the second request finds nothing; a session whose second
// request found one too may have more, and its recvmmsg takes the rest. Measured beside
// recvmmsg on 1000 sockets with a datagram each: ~0.8–1.2 µs a socket against ~2.3.
type recvQueue struct {
	ring      *uring
	slots     [2 * recvQueueSessions]recvSlot
	doneFn    func(uint64, int32)
	log       *slog.Logger
	failed    bool   // the ring failed: sessions drain with recvmmsg from now on
	noStamps  bool   // the kernel refused a request's control data (before 5.10): give up the ring
	delivered uint64 // datagrams handed to sessions so far, ever
}

// recvSlot is one recvmsg request and its datagram; it lives in the queue, on the heap, so the
// pointers the kernel is given stay valid.
type recvSlot struct {
	hdr  syscall.Msghdr
	iov  syscall.Iovec
	name syscall.RawSockaddrAny
	ctrl [64]byte // room for one SCM_TIMESTAMPNS
	buf  [1500]byte
	res  int32 // bytes received, -errno, or resUnset
}

const (
	// recvQueueSessions is how many sessions one submission reads: 128 requests, ~220 KB of
	// buffers a worker.
	recvQueueSessions = 64
	// resUnset marks a request with no completion (none asked, or the ring failed).
	resUnset = math.MinInt32
)

// newRecvQueue is a queue with its own ring, or nil where io_uring is not to be had.
func newRecvQueue(log *slog.Logger) *recvQueue {
	if uringRefused.Load() {
		return nil
	}
	r, err := newURing(2 * recvQueueSessions)
	if err != nil {
		if !uringRefused.Swap(true) {
			log.Info("reading RTP one socket at a time", "reason", err)
		}
		return nil
	}
	q := &recvQueue{ring: r, log: log}
	q.doneFn = q.done
	return q
}

// read asks for two datagrams from each of sessions (at most recvQueueSessions) that the pacer
// reads, in one submission. The caller keeps the sessions' sockets open meanwhile
// (pacerRun.flushMu). A session that has left, or whose socket the pacer does not read, gets no
// request.
func (q *recvQueue) read(sessions []*Session) {
	n := 0
	for i, s := range sessions {
		a, b := &q.slots[2*i], &q.slots[2*i+1]
		a.res, b.res = resUnset, resUnset
		fd := s.pacedFD()
		if fd < 0 || q.failed {
			continue
		}
		for j, sl := range []*recvSlot{a, b} {
			armRecv(&sl.hdr, &sl.iov, &sl.name, sl.ctrl[:], sl.buf[:])
			q.ring.recvmsg(n, fd, &sl.hdr, uint64(2*i+j))
			n++
		}
	}
	if n == 0 {
		return
	}
	if err := q.ring.submit(n, q.doneFn); err != nil {
		// Not seen here: requests without a completion stay resUnset, so their sessions
		// drain with recvmmsg, and so does everyone from now on.
		q.log.Warn("batched RTP read failed, reading each socket from now on", "err", err)
		q.failed = true
		q.ring.close()
	} else if q.noStamps {
		q.log.Info("reading RTP one socket at a time: this kernel's io_uring takes no arrival times")
		q.failed = true
		q.ring.close()
	}
}

func (q *recvQueue) done(i uint64, res int32) {
	q.slots[i].res = res
	if res == -int32(syscall.EINVAL) {
		q.noStamps = true // kernels before 5.10 refuse control data on io_uring's recvmsg
	}
}

// deliver hands session i's datagrams of the last read to s (whose frameMu the caller holds)
// and says whether more may be queued on its socket: both requests found one, or the read
// failed.
func (q *recvQueue) deliver(i int, s *Session, pkt *rtp.Packet) (more bool) {
	more = true
	for _, sl := range []*recvSlot{&q.slots[2*i], &q.slots[2*i+1]} {
		switch {
		case sl.res == resUnset, sl.res == -int32(syscall.EINVAL):
			return s.poll != nil // not read: its recvmmsg reads it
		case sl.res == -int32(syscall.EAGAIN):
			// The socket was empty for this request; a datagram that came between the two
			// may still be in the other's buffer, so it is looked at all the same.
			more = false
		case sl.res < 0:
			s.log.Debug("rtp read", "err", syscall.Errno(-sl.res)) // an ICMP error, reported once: read on
		default:
			b, from, at := received(&sl.hdr, int(sl.res), &sl.name, sl.ctrl[:], sl.buf[:])
			s.handleRTPAt(b, from, pkt, at)
			q.delivered++
		}
	}
	return more
}

// close gives the ring back; q is not used again.
func (q *recvQueue) close() {
	if q != nil && !q.failed {
		q.ring.close()
		q.failed = true
	}
}

// pacedFD is the descriptor of s's RTP socket while the shared pacer reads it, or -1.
func (s *Session) pacedFD() int {
	r, ok := s.poll.(*rawUDP)
	if !ok {
		return -1
	}
	s.frameMu.Lock() // s.paced is set: the socket is not closed before remove waits for us
	defer s.frameMu.Unlock()
	if s.paced == nil || !r.detached {
		return -1
	}
	return r.fd
}
