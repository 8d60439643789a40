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

// pollState is the receive side of a rawUDP used by the pacer.
type pollState struct {
	msg  syscall.Msghdr
	iov  syscall.Iovec
	ctrl [64]byte // room for one SCM_TIMESTAMPNS control message
	at   time.Time
	pfn  func(fd uintptr) bool
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
	r.poll.pfn = r.tryRecv
	r.rmu.Unlock()
	r.wmu.Unlock()
	_ = r.conn.Close() // leaves the epoll set; the socket lives on in fd
	return true
}

// pollRead takes one queued datagram without waiting. ok is false when none is queued; at is
// when the kernel received it.
func (r *rawUDP) pollRead(b []byte) (n int, from netip.AddrPort, at time.Time, ok bool, err error) {
	// The descriptor is non-blocking (and MSG_DONTWAIT says so again): this never waits.
	if len(b) == 0 {
		return 0, from, at, false, nil
	}
	r.rmu.Lock()
	defer r.rmu.Unlock()
	if r.fd < 0 {
		return 0, from, at, false, net.ErrClosed
	}
	r.rb, r.rn, r.rerr = b, -1, 0
	r.tryRecv(uintptr(r.fd))
	r.rb = nil
	if r.rerr != 0 {
		return 0, from, at, true, r.rerr
	}
	if r.rn < 0 {
		return 0, from, at, false, nil
	}
	return r.rn, r.fromAddr(), r.poll.at, true, nil
}

func (r *rawUDP) tryRecv(fd uintptr) bool {
	p := &r.poll
	p.iov.Base = &r.rb[0]
	p.iov.SetLen(len(r.rb))
	p.msg = syscall.Msghdr{Name: (*byte)(unsafe.Pointer(&r.rsa)), Namelen: uint32(unsafe.Sizeof(r.rsa)), Iov: &p.iov, Iovlen: 1}
	p.msg.Control = &p.ctrl[0]
	p.msg.SetControllen(len(p.ctrl))
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&p.msg)), syscall.MSG_DONTWAIT)
		switch e {
		case 0:
			r.rn = int(n)
			p.at = r.stamp()
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return true // nothing queued: rn stays -1
		default:
			r.rerr = e
			return true
		}
	}
}

// stamp is the SCM_TIMESTAMPNS of the last recvmsg, or the present if there was none.
func (r *rawUDP) stamp() time.Time {
	p := &r.poll
	ctrl := p.ctrl[:min(int(p.msg.Controllen), len(p.ctrl))]
	hdrLen := syscall.CmsgLen(0)
	for len(ctrl) >= hdrLen {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&ctrl[0]))
		if int(h.Len) < hdrLen || int(h.Len) > len(ctrl) {
			break
		}
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS && int(h.Len) >= hdrLen+int(unsafe.Sizeof(syscall.Timespec{})) {
			ts := (*syscall.Timespec)(unsafe.Pointer(&ctrl[hdrLen]))
			return time.Unix(ts.Sec, ts.Nsec)
		}
		ctrl = ctrl[min(syscall.CmsgSpace(int(h.Len)-hdrLen), len(ctrl)):]
	}
	return time.Now()
}
