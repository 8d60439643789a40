package netlab

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"

	"golang.org/x/sys/unix"
)

// inNS runs fn on a locked OS thread switched into h's namespace, then switches back. A
// socket created by fn stays in that namespace for its whole life, whichever thread later
// uses it. If switching back fails the thread is left locked, so the runtime ends it
// instead of reusing a thread in the wrong namespace.
func (h *Host) inNS(fn func() error) error {
	target, err := unix.Open("/var/run/netns/"+h.ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netlab: opening namespace %s: %w", h.ns, err)
	}
	defer unix.Close(target)

	errc := make(chan error, 1)
	// A goroutine of its own, so the caller's thread (maybe locked for its own reasons)
	// is never switched.
	go func() {
		runtime.LockOSThread()
		self, err := unix.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netlab: opening this thread's namespace: %w", err)
			return
		}
		defer unix.Close(self)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netlab: entering namespace %s: %w", h.ns, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(self, unix.CLONE_NEWNET); err != nil {
			// Stay locked: the goroutine exits and takes the thread with it.
			errc <- fmt.Errorf("netlab: leaving namespace %s: %w", h.ns, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// checkLiteral refuses host names: resolving them would happen on other threads, outside
// the namespace.
func checkLiteral(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("netlab: address %q: %w", addr, err)
	}
	if host == "" {
		return nil
	}
	if _, err := netip.ParseAddr(host); err != nil {
		return fmt.Errorf("netlab: address %q: want an IP literal", addr)
	}
	return nil
}

// ListenPacket is net.ListenPacket inside h's namespace ("udp", "udp4", "ip4:…").
func (h *Host) ListenPacket(network, addr string) (net.PacketConn, error) {
	if err := checkLiteral(addr); err != nil {
		return nil, err
	}
	var c net.PacketConn
	err := h.inNS(func() error {
		var err error
		c, err = net.ListenPacket(network, addr)
		return err
	})
	return c, err
}

// Listen is net.Listen inside h's namespace.
func (h *Host) Listen(network, addr string) (net.Listener, error) {
	if err := checkLiteral(addr); err != nil {
		return nil, err
	}
	var l net.Listener
	err := h.inNS(func() error {
		var err error
		l, err = net.Listen(network, addr)
		return err
	})
	return l, err
}

// Dial is net.Dialer.DialContext from inside h's namespace. The socket is created and the
// connection started in the namespace (the connect itself may finish on another thread,
// which does not matter: a socket's namespace is fixed when it is created).
func (h *Host) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := checkLiteral(addr); err != nil {
		return nil, err
	}
	var c net.Conn
	err := h.inNS(func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}
