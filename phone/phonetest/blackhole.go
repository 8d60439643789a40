// Package phonetest holds test helpers for the phone core and its users: network conditions
// that are hard to make by hand and must not depend on a firewall.
package phonetest

import (
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BlackholeTCP returns a loopback TCP port whose SYNs go unanswered, as behind a dropping
// firewall, without touching any firewall: a listener with a backlog of 0 whose one queue
// slot a connection already fills (Linux drops SYNs while the accept queue is full), and that
// never accepts. It skips the test on a kernel that completes connections anyway.
func BlackholeTCP(t testing.TB) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "blackhole")
	t.Cleanup(func() { f.Close() })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	port := sa.(*syscall.SockaddrInet4).Port
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for range 4 { // fill the queue; connections beyond it stay in SYN-SENT
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			break // the queue is full
		}
		t.Cleanup(func() { c.Close() })
	}
	if c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond); err == nil {
		c.Close()
		t.Skip("this kernel completes connections beyond a full accept queue: no TCP blackhole on loopback")
	}
	return port
}
