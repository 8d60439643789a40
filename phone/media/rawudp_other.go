//go:build !linux

package media

import "net"

// newRawIO is the socket itself where raw system calls are not used (see rawudp_linux.go).
func newRawIO(c *net.UDPConn) packetIO { return c }

// pollerFor is nil: the receive goroutine reads every packet.
func pollerFor(packetIO) poller { return nil }
