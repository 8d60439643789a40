package media

import (
	"log/slog"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// sendQueue gathers the RTP that one pacer worker's share sends in a tick and hands it to the
// kernel in one io_uring submission instead of a sendto each. With a thousand calls that is a
// thousand system calls a tick fewer; on a kernel that isolates its page tables (PTI) each one
// also emptied the TLB. sendmmsg cannot do this: its datagrams all leave one socket, and every
// call has its own. A share of a few sessions sends directly (batchMinSessions), and so does
// every share where io_uring is refused: nothing else changes then.
//
// A frame's datagram is copied into the queue's arena when the session sends it (the session
// reuses its buffer for the next), and leaves when the share's sends are done or the queue is
// full. Its lateness, counters and octets are taken when the kernel has sent it.
type sendQueue struct {
	ring   *uring
	slots  [sendQueueLen]sendSlot
	n      int // slots in use
	arena  [sendArenaLen]byte
	used   int
	queued uint64 // datagrams queued so far, ever: sendDue tells from it whether a frame was queued
	late   *lateHist
	sentAt time.Time // when the submission returned: the moment every datagram of it had left
	log    *slog.Logger
	doneFn func(uint64, int32)
	failed bool // the ring failed: everything sends directly from now on
}

// sendSlot is one queued datagram and what its sendmsg needs; it lives in the queue, on the
// heap, so the pointers the kernel is given stay valid.
type sendSlot struct {
	hdr     syscall.Msghdr
	iov     syscall.Iovec
	sa      syscall.RawSockaddrInet6 // an AF_INET6 or an AF_INET address (which is smaller)
	s       *Session
	fd      int
	due     time.Time
	payload int
	left    bool // the kernel has completed its request
}

const (
	sendQueueLen = 256      // datagrams a submission takes at most
	sendArenaLen = 64 << 10 // bytes of datagrams a submission takes at most
	// batchMinSessions: a share of fewer sessions sends directly; for a handful of calls one
	// sendto each costs what the submission would.
	batchMinSessions = 8
)

// uringRefused is set once io_uring could not be set up: the process does not ask again.
var uringRefused atomic.Bool

// newSendQueue is a queue with its own ring, or nil where io_uring is not to be had.
func newSendQueue(late *lateHist, log *slog.Logger) *sendQueue {
	if uringRefused.Load() {
		return nil
	}
	r, err := newURing(sendQueueLen)
	if err != nil {
		if !uringRefused.Swap(true) {
			log.Info("sending RTP one datagram at a time", "reason", err)
		}
		return nil
	}
	q := &sendQueue{ring: r, late: late, log: log}
	q.doneFn = q.done
	return q
}

// total is how many datagrams q has queued so far; 0 for no queue.
func (q *sendQueue) total() uint64 {
	if q == nil {
		return 0
	}
	return q.queued
}

// queue takes wire, one frame's datagram of s to dst, and returns true; false if it must be
// sent directly (no queue, a failed ring, a socket the pacer does not read, or a datagram
// larger than the arena takes at once). payload is the frame's payload bytes, for RTCP's
// octet count; due is when the frame was due, its lateness taken when it leaves.
func (q *sendQueue) queue(s *Session, wire []byte, dst netip.AddrPort, payload int, due time.Time) bool {
	if q == nil || q.failed || len(wire) > sendArenaLen {
		return false
	}
	r, ok := s.rtpIO.(*rawUDP)
	if !ok || !r.detached || r.fd < 0 {
		return false
	}
	if q.n == sendQueueLen || q.used+len(wire) > sendArenaLen {
		q.flush()
		if q.failed {
			return false
		}
	}
	sl := &q.slots[q.n]
	salen, ok := setSockaddr(&sl.sa, dst, r.v6)
	if !ok {
		return false // an IPv6 peer on an IPv4 socket: the direct send reports it
	}
	buf := q.arena[q.used : q.used+len(wire)]
	copy(buf, wire)
	q.used += len(wire)
	sl.iov = syscall.Iovec{Base: &buf[0]}
	sl.iov.SetLen(len(wire))
	sl.hdr = syscall.Msghdr{Name: (*byte)(unsafe.Pointer(&sl.sa)), Namelen: salen, Iov: &sl.iov}
	sl.hdr.Iovlen = 1
	sl.s, sl.fd, sl.due, sl.payload = s, r.fd, due, payload
	q.n++
	q.queued++
	return true
}

// flush sends everything queued, in one submission. The caller makes sure no queued session's
// socket is closed meanwhile (pacerRun.flushMu).
func (q *sendQueue) flush() {
	if q == nil || q.n == 0 {
		return
	}
	for i := range q.n {
		q.slots[i].left = false
		q.ring.sendmsg(i, q.slots[i].fd, &q.slots[i].hdr, uint64(i))
	}
	q.sentAt = time.Time{}
	if err := q.ring.submit(q.n, q.doneFn); err != nil {
		// Not seen here; a seccomp profile could allow io_uring_setup and refuse
		// io_uring_enter. The ring is given up, every worker sends directly from now on, and
		// the datagrams the kernel did not take leave that way now.
		q.log.Warn("batched RTP send failed, sending directly from now on", "err", err)
		uringRefused.Store(true)
		q.failed = true
		q.ring.close()
		for i := range q.n {
			if sl := &q.slots[i]; !sl.left {
				q.done(uint64(i), sendmsgNow(sl.fd, &sl.hdr))
			}
		}
	}
	for i := range q.n {
		q.slots[i].s = nil // a session that ends must not be kept by the queue
	}
	q.n, q.used = 0, 0
}

// done is one datagram's completion: the session's counters as the direct send keeps them.
func (q *sendQueue) done(i uint64, res int32) {
	if q.sentAt.IsZero() {
		q.sentAt = time.Now()
	}
	sl := &q.slots[i]
	sl.left = true
	s := sl.s
	if res < 0 {
		if e := syscall.Errno(-res); e != syscall.EAGAIN { // EAGAIN: the send buffer is full, dropped as a direct send would be
			s.log.Debug("rtp write", "err", e)
		}
		return
	}
	s.stats.sent.Add(1)
	s.stats.lastSent.Store(q.sentAt.UnixNano())
	s.tx.mu.Lock()
	s.tx.octets += uint64(sl.payload)
	s.tx.mu.Unlock()
	if q.late != nil {
		q.late.record(q.sentAt.Sub(sl.due))
	}
}

// sendmsgNow sends hdr on fd with a system call of its own: bytes sent, or -errno.
func sendmsgNow(fd int, hdr *syscall.Msghdr) int32 {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(hdr)), syscall.MSG_DONTWAIT)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return -int32(e)
		}
		return int32(n)
	}
}

// close gives the ring back; q is not used again.
func (q *sendQueue) close() {
	if q != nil && !q.failed {
		q.ring.close()
		q.failed = true
	}
}
