package media

import (
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"
)

// The pacer's own receive: instead of a goroutine woken by the netpoller for every packet,
// the pacer takes whatever is queued on the RTP socket at each 20 ms tick, just before it plays
// a frame. The packets' arrival times come from the kernel (SO_TIMESTAMPNS), so the jitter
// buffer sees the same arrivals as if each had been read the moment it came; what is played
// when does not change either, since playout happens at the tick. One wakeup a frame fewer,
// and no goroutine handoff: see bench/call_bench_test.go.
//
// One recvmmsg takes up to recvBatchLen datagrams, each with its own arrival time: in the
// steady state of a call (one packet queued per tick) that is one system call a frame, where
// recvmsg until EAGAIN took two. The buffers belong to whoever drains (a shared pacer's worker),
// not to the socket, so a thousand sessions do not each keep a batch of 1500-byte buffers.

// recvBatchLen is how many datagrams one recvmmsg may take: a call queues one per tick, more
// after a stall or a burst; 8 × 1500 bytes stays small enough per worker.
const recvBatchLen = 8

// mmsghdr is struct mmsghdr: a msghdr and the length received. Go pads it to the alignment of
// msghdr's pointers, as C does (64 bytes on 64-bit platforms, 32 on 32-bit ones).
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
}

// recvBatch is the buffers of one recvmmsg. It must live on the heap (new(recvBatch)): the
// kernel is handed pointers into it.
type recvBatch struct {
	hdrs  [recvBatchLen]mmsghdr
	iovs  [recvBatchLen]syscall.Iovec
	names [recvBatchLen]syscall.RawSockaddrAny
	ctrl  [recvBatchLen][64]byte // room for one SCM_TIMESTAMPNS control message each
	bufs  [recvBatchLen][1500]byte
}

// pollerFor is io as a socket the pacer can drain, or nil if it cannot be (a TURN relay, or
// a kernel that will not timestamp).
func pollerFor(io packetIO) poller {
	if r, ok := io.(*rawUDP); ok && r.enablePoll() {
		return r
	}
	return nil
}

// enablePoll asks the kernel to timestamp arriving datagrams and takes the socket out of the
// netpoller: the runtime would otherwise still wake up for every packet (its epoll set reports
// it even when no goroutine waits), only to find nothing to do. The socket is kept through a
// duplicate descriptor, and the *net.UDPConn closed, which removes it from epoll. false, and
// nothing changed, if any step fails.
func (r *rawUDP) enablePoll() bool {
	nfd := -1
	_ = r.rc.Control(func(fd uintptr) {
		if syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1) != nil {
			return
		}
		d, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_DUPFD_CLOEXEC, 0)
		if e == 0 {
			nfd = int(d)
		}
	})
	if nfd < 0 {
		return false
	}
	r.wmu.Lock()
	r.rmu.Lock()
	r.fd, r.detached = nfd, true
	r.rmu.Unlock()
	r.wmu.Unlock()
	_ = r.conn.Close() // leaves the epoll set; the socket lives on in fd
	return true
}

// pollBatch takes up to recvBatchLen queued datagrams into rb without waiting; n is 0 when none
// is queued. Fewer than recvBatchLen means the queue is now empty.
func (r *rawUDP) pollBatch(rb *recvBatch) (n int, err error) {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	if r.fd < 0 {
		return 0, net.ErrClosed // the descriptor is closed only under rmu: its number cannot be reused under us
	}
	return rb.recv(uintptr(r.fd))
}

// recv is one recvmmsg on fd. The descriptor is non-blocking and MSG_DONTWAIT says so again:
// this never waits, so it needs none of the runtime's system call bookkeeping (RawSyscall).
func (rb *recvBatch) recv(fd uintptr) (int, error) {
	for i := range rb.hdrs {
		armRecv(&rb.hdrs[i].hdr, &rb.iovs[i], &rb.names[i], rb.ctrl[i][:], rb.bufs[i][:])
		rb.hdrs[i].n = 0
	}
	for {
		n, _, e := syscall.RawSyscall6(syscall.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&rb.hdrs[0])), recvBatchLen, syscall.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			return int(n), nil
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return 0, nil
		default:
			return 0, e // e.g. ECONNREFUSED from an ICMP error: reported once, the next read goes on
		}
	}
}

// datagram is the i-th datagram of the last recv: its bytes, source and arrival time.
func (rb *recvBatch) datagram(i int) (b []byte, from netip.AddrPort, at time.Time) {
	return received(&rb.hdrs[i].hdr, int(rb.hdrs[i].n), &rb.names[i], rb.ctrl[i][:], rb.bufs[i][:])
}

// armRecv points h at one datagram's buffers for a receive with its arrival time (recvmmsg, or
// io_uring's recvmsg in recvq_linux.go). Namelen and Controllen are value-result: the kernel
// writes back what it used, so h is armed anew before every call.
func armRecv(h *syscall.Msghdr, iov *syscall.Iovec, name *syscall.RawSockaddrAny, ctrl, buf []byte) {
	iov.Base = &buf[0]
	iov.SetLen(len(buf))
	*h = syscall.Msghdr{Name: (*byte)(unsafe.Pointer(name)), Namelen: uint32(unsafe.Sizeof(*name)),
		Iov: iov, Iovlen: 1, Control: &ctrl[0]}
	h.SetControllen(len(ctrl))
}

// received is the datagram of n bytes a receive armed by armRecv took: its bytes, source and
// arrival time.
func received(h *syscall.Msghdr, n int, name *syscall.RawSockaddrAny, ctrl, buf []byte) (b []byte, from netip.AddrPort, at time.Time) {
	return buf[:min(n, len(buf))], addrPortOf(name), stampOf(ctrl[:min(int(h.Controllen), len(ctrl))])
}

// stampOf is the SCM_TIMESTAMPNS in a message's control data, or the present if there is none.
// The kernel's stamp is wall-clock time; the playout's times (the pacer's grid) carry Go's
// monotonic reading, and a difference between the two is taken on the wall clock, which an
// NTP step or a suspend moves: +300 ms of delay for good, or every packet late (no audio) after
// a step back. So the stamp is put on the monotonic clock as it is read (onMonotonic).
func stampOf(ctrl []byte) time.Time {
	hdrLen := syscall.CmsgLen(0)
	for len(ctrl) >= hdrLen {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&ctrl[0]))
		if int(h.Len) < hdrLen || int(h.Len) > len(ctrl) {
			break
		}
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS && int(h.Len) >= hdrLen+int(unsafe.Sizeof(syscall.Timespec{})) {
			ts := (*syscall.Timespec)(unsafe.Pointer(&ctrl[hdrLen]))
			return onMonotonic(time.Unix(ts.Unix()))
		}
		ctrl = ctrl[min(syscall.CmsgSpace(int(h.Len)-hdrLen), len(ctrl)):]
	}
	return time.Now()
}

// onMonotonic is wall-clock time t on the monotonic clock: the present, moved by how long ago t
// was on the wall clock (microseconds for a datagram just read).
func onMonotonic(t time.Time) time.Time {
	now := time.Now()
	return now.Add(t.Sub(now))
}
