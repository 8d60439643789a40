//go:build linux

// Command framefloor is the least a Go process can do for a call's media, as a reference for
// the CPU a call costs (docs/BENCHMARKS.md): every 20 ms it wakes on a timerfd in the
// netpoller, takes one datagram from its UDP socket and sends one 172-byte datagram (a G.711
// frame's size) to its peer. No codec, no jitter buffer, no files, no SIP. The timer is read
// once per expiry and parked on unread until the next is due, as dialtone's pacer does
// (phone/media/timerfd_linux.go). Two of them talk to each other:
//
//	framefloor -local 127.0.0.1:40000 -remote 127.0.0.1:40002 -seconds 22 &
//	framefloor -local 127.0.0.1:40002 -remote 127.0.0.1:40000 -seconds 22
//
// It is not part of the product and is built only to measure with.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"
)

//go:linkname nanotime runtime.nanotime
func nanotime() int64

func main() {
	local := flag.String("local", "127.0.0.1:40000", "UDP address to send from and receive on")
	remote := flag.String("remote", "127.0.0.1:40002", "UDP address to send to (IPv4)")
	seconds := flag.Int("seconds", 20, "how long to run")
	flag.Parse()
	if err := run(*local, *remote, *seconds); err != nil {
		fmt.Fprintln(os.Stderr, "framefloor:", err)
		os.Exit(1)
	}
}

func run(local, remote string, seconds int) error {
	la, err := net.ResolveUDPAddr("udp4", local)
	if err != nil {
		return err
	}
	ra, err := net.ResolveUDPAddr("udp4", remote)
	if err != nil {
		return err
	}
	conn, err := net.ListenUDP("udp4", la)
	if err != nil {
		return err
	}
	defer conn.Close()
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var sock uintptr
	if err := rc.Control(func(fd uintptr) { sock = fd }); err != nil {
		return err
	}

	const period = int64(20 * time.Millisecond)
	fd, _, e := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, 1 /* CLOCK_MONOTONIC */, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if e != 0 {
		return fmt.Errorf("timerfd_create: %w", e)
	}
	first := nanotime() + period
	spec := [2]syscall.Timespec{syscall.NsecToTimespec(period), syscall.NsecToTimespec(first)}
	if _, _, e := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, fd, 1 /* TFD_TIMER_ABSTIME */, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); e != 0 {
		return fmt.Errorf("timerfd_settime: %w", e)
	}
	timer := os.NewFile(fd, "timerfd")
	defer timer.Close()
	trc, err := timer.SyscallConn()
	if err != nil {
		return err
	}
	var count [8]byte
	next := first
	expired := func(fd uintptr) bool {
		now := nanotime()
		if now < next {
			return false // park unread: the kernel's expiry is still to come and will wake us
		}
		if _, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&count[0])), 8); e != 0 {
			return false
		}
		next = first + ((now-first)/period+1)*period
		return true
	}

	to := syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: [4]byte(ra.IP.To4())}
	port := (*[2]byte)(unsafe.Pointer(&to.Port))
	port[0], port[1] = byte(ra.Port>>8), byte(ra.Port)
	pkt, buf := make([]byte, 172), make([]byte, 1500)
	received := 0
	for range seconds * 50 {
		if err := trc.Read(expired); err != nil {
			return err
		}
		if _, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, sock, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), syscall.MSG_DONTWAIT, 0, 0); e == 0 {
			received++
		}
		syscall.RawSyscall6(syscall.SYS_SENDTO, sock, uintptr(unsafe.Pointer(&pkt[0])), uintptr(len(pkt)), syscall.MSG_DONTWAIT,
			uintptr(unsafe.Pointer(&to)), unsafe.Sizeof(to))
	}
	fmt.Fprintf(os.Stderr, "framefloor: %d frames sent, %d received\n", seconds*50, received)
	return nil
}
