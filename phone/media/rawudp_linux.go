package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"unsafe"
)

// rawUDP is a *net.UDPConn whose datagrams are sent and received with raw system calls
// (sendto and recvfrom on the non-blocking socket, the netpoller still doing the waiting).
//
// Why: a call's process is idle between 20 ms frames, and the Go runtime's sysmon thread then
// sleeps deeply; every ordinary syscall (net.UDPConn's) wakes it on the way in, and it polls
// again after 20 µs before sleeping again. Two packets a frame made sysmon a third of a call's
// CPU (perf, bench/call_bench_test.go). sendto and recvfrom on a non-blocking UDP socket never
// block, so they need none of what the runtime's syscall entry does.
type rawUDP struct {
	conn *net.UDPConn
	rc   syscall.RawConn
	v6   bool // an AF_INET6 socket (dual-stack): IPv4 peers are written as ::ffff:a.b.c.d

	wmu    sync.Mutex // guards the send state; sendFn reads it
	wb     []byte
	wdst   netip.AddrPort           // the address wsa holds
	wsa    syscall.RawSockaddrInet6 // wdst as the socket's family takes it (setSockaddr)
	wsalen uint32
	wn     int
	werr   syscall.Errno
	sendFn func(fd uintptr) bool // s.send, made once so that no call allocates a closure

	rmu    sync.Mutex // guards the receive state; recvFn fills it
	rb     []byte
	rsa    syscall.RawSockaddrAny
	rn     int
	rerr   syscall.Errno
	recvFn func(fd uintptr) bool
	// fd is the socket's own descriptor once detached from the netpoller (the pacer reads it
	// at its ticks); -1 while conn does the waiting, and after Close.
	fd       int
	detached bool
}

// newRawIO wraps c, or returns c itself if its socket is not one rawUDP understands.
func newRawIO(c *net.UDPConn) packetIO {
	rc, err := c.SyscallConn()
	if err != nil {
		return c
	}
	var family int = -1
	_ = rc.Control(func(fd uintptr) {
		if sa, err := syscall.Getsockname(int(fd)); err == nil {
			switch sa.(type) {
			case *syscall.SockaddrInet4:
				family = syscall.AF_INET
			case *syscall.SockaddrInet6:
				family = syscall.AF_INET6
			}
		}
	})
	if family < 0 {
		return c
	}
	r := &rawUDP{conn: c, rc: rc, v6: family == syscall.AF_INET6, fd: -1}
	r.sendFn, r.recvFn = r.send, r.recv
	return r
}

// WriteToUDPAddrPort sends b to addr.
func (r *rawUDP) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if len(b) == 0 {
		return r.conn.WriteToUDPAddrPort(b, addr)
	}
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if addr != r.wdst {
		salen, ok := setSockaddr(&r.wsa, addr, r.v6)
		if !ok {
			return 0, fmt.Errorf("write to %s: IPv6 address on an IPv4 socket", addr)
		}
		r.wdst, r.wsalen = addr, salen
	}
	r.wb, r.wn, r.werr = b, 0, 0
	var err error
	if r.detached {
		if r.fd < 0 {
			return 0, net.ErrClosed
		}
		if !r.send(uintptr(r.fd)) {
			r.werr = syscall.EAGAIN // the send buffer is full: this datagram is dropped
		}
	} else {
		err = r.rc.Write(r.sendFn)
	}
	r.wb = nil
	if err != nil {
		return 0, err
	}
	if r.werr != 0 {
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: net.UDPAddrFromAddrPort(addr), Err: r.werr}
	}
	return r.wn, nil
}

// setSockaddr writes addr into sa in the form a socket of the family v6 says takes it (an IPv4
// socket's sockaddr_in at the start of sa) and returns its length; false for an IPv6 address
// on an IPv4 socket.
func setSockaddr(sa *syscall.RawSockaddrInet6, addr netip.AddrPort, v6 bool) (uint32, bool) {
	a := addr.Addr()
	if v6 {
		*sa = syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Addr: a.As16()}
		putPort(&sa.Port, addr.Port())
		return uint32(unsafe.Sizeof(*sa)), true
	}
	if !a.Unmap().Is4() {
		return 0, false
	}
	sa4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
	*sa4 = syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: a.Unmap().As4()}
	putPort(&sa4.Port, addr.Port())
	return uint32(unsafe.Sizeof(*sa4)), true
}

func (r *rawUDP) send(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&r.wb[0])), uintptr(len(r.wb)), syscall.MSG_DONTWAIT,
			uintptr(unsafe.Pointer(&r.wsa)), uintptr(r.wsalen))
		switch e {
		case 0:
			r.wn = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // the send buffer is full: the netpoller waits until it is not
		default:
			r.werr = e
			return true
		}
	}
}

// ReadFromUDPAddrPort waits for a datagram and copies it into b.
func (r *rawUDP) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	if len(b) == 0 {
		return r.conn.ReadFromUDPAddrPort(b)
	}
	r.rmu.Lock()
	defer r.rmu.Unlock()
	if r.detached {
		return 0, netip.AddrPort{}, net.ErrClosed // the pacer reads it (pollBatch); nobody else may
	}
	r.rb, r.rn, r.rerr = b, 0, 0
	err := r.rc.Read(r.recvFn)
	r.rb = nil
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && errors.Is(op.Err, net.ErrClosed) {
			return 0, netip.AddrPort{}, net.ErrClosed
		}
		return 0, netip.AddrPort{}, err
	}
	if r.rerr != 0 {
		return 0, netip.AddrPort{}, &net.OpError{Op: "read", Net: "udp", Err: r.rerr}
	}
	return r.rn, addrPortOf(&r.rsa), nil
}

// addrPortOf is the address a receive filled in.
func addrPortOf(rsa *syscall.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case syscall.AF_INET:
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), getPort(&sa.Port))
	case syscall.AF_INET6:
		sa := (*syscall.RawSockaddrInet6)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), getPort(&sa.Port))
	}
	return netip.AddrPort{}
}

func (r *rawUDP) recv(fd uintptr) bool {
	for {
		salen := uint32(unsafe.Sizeof(r.rsa))
		n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&r.rb[0])), uintptr(len(r.rb)), 0,
			uintptr(unsafe.Pointer(&r.rsa)), uintptr(unsafe.Pointer(&salen)))
		switch e {
		case 0:
			r.rn = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // nothing queued: the netpoller parks us until something is
		default:
			r.rerr = e // e.g. ECONNREFUSED from an ICMP error: reported, the loop goes on
			return true
		}
	}
}

// Close closes the socket; a blocked read returns net.ErrClosed. A detached descriptor is
// closed only once no send or poll is using it, so its number cannot be reused under them.
func (r *rawUDP) Close() error {
	err := r.conn.Close()
	r.wmu.Lock()
	r.rmu.Lock()
	if r.fd >= 0 {
		err = syscall.Close(r.fd)
		r.fd = -1
	}
	r.rmu.Unlock()
	r.wmu.Unlock()
	return err
}

// putPort and getPort convert between a port and its network byte order field.
func putPort(field *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(field))
	b[0], b[1] = byte(port>>8), byte(port)
}

func getPort(field *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(field))
	return uint16(b[0])<<8 | uint16(b[1])
}
