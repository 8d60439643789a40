package phone

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/emiago/sipgo/sip"
)

// canWatchFlows: on Linux a keeper learns of a closed connection from the kernel (epoll),
// not by looking every second.
const canWatchFlows = true

// epollRDHUP is EPOLLRDHUP: the peer closed its side (FIN), or we shut down reading (drop).
const epollRDHUP = 0x2000

// watch tells the moment the registration's connection is hung up or fails (FIN, RST, ss -K,
// our own drop), without reading from it (sipgo's reader does) and without a thread: an epoll
// set holding only that socket, for hang-ups and errors, itself waited on by Go's netpoller.
//
// The set holds a duplicate of the socket's descriptor, not sipgo's own: when sipgo's reader
// sees the same hang-up and closes its descriptor, a set holding that one would forget the
// socket, event and all, and the race between the two goroutines decides whether we hear of
// it. The duplicate keeps the socket open until stop, which the keeper calls as soon as it
// has reported the loss (or moves to another flow).
func (s sipFlows) watch(flow string) (<-chan struct{}, func(), error) {
	c, err := s.tp.GetConnection(s.network, flow)
	if err != nil {
		return nil, nil, fmt.Errorf("watch %s: %w", flow, err)
	}
	defer c.TryClose() // GetConnection took a reference
	tc, ok := c.(*sip.TCPConnection)
	if !ok {
		return nil, nil, fmt.Errorf("watch %s: not a TCP connection", flow)
	}
	sock := tc.Conn
	if t, ok := sock.(*tls.Conn); ok {
		sock = t.NetConn()
	}
	sc, ok := sock.(syscall.Conn)
	if !ok {
		return nil, nil, fmt.Errorf("watch %s: no socket", flow)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, nil, fmt.Errorf("watch %s: %w", flow, err)
	}
	dup := -1
	var dupErr error
	if err := rc.Control(func(fd uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_DUPFD_CLOEXEC, 0)
		if e != 0 {
			dupErr = e
			return
		}
		dup = int(r)
	}); err != nil || dupErr != nil {
		return nil, nil, fmt.Errorf("watch %s: dup: %w", flow, errors.Join(err, dupErr))
	}
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		syscall.Close(dup)
		return nil, nil, fmt.Errorf("watch %s: epoll: %w", flow, err)
	}
	ev := syscall.EpollEvent{Events: epollRDHUP | syscall.EPOLLHUP | syscall.EPOLLERR, Fd: int32(dup)}
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, dup, &ev); err != nil {
		syscall.Close(ep)
		syscall.Close(dup)
		return nil, nil, fmt.Errorf("watch %s: epoll_ctl: %w", flow, err)
	}
	if err := syscall.SetNonblock(ep, true); err != nil { // so os.NewFile hands it to the netpoller
		syscall.Close(ep)
		syscall.Close(dup)
		return nil, nil, fmt.Errorf("watch %s: %w", flow, err)
	}
	f := os.NewFile(uintptr(ep), "flow-watch")
	frc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		syscall.Close(dup)
		return nil, nil, fmt.Errorf("watch %s: %w", flow, err)
	}
	hungUp := make(chan struct{})
	done := make(chan struct{})
	go func() { // owned by the keeper: stop ends it and waits
		defer close(done)
		var evs [1]syscall.EpollEvent
		err := frc.Read(func(fd uintptr) bool {
			n, err := syscall.EpollWait(int(fd), evs[:], 0)
			return n > 0 || (err != nil && err != syscall.EINTR)
		})
		if err == nil {
			close(hungUp)
		}
	}()
	stop := func() {
		f.Close() // wakes the Read above with an error
		<-done
		syscall.Close(dup)
	}
	return hungUp, stop, nil
}
