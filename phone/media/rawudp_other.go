//go:build !linux

package media

import (
	"net"
	"net/netip"
	"time"
)

// newRawIO is the socket itself where raw system calls are not used (see rawudp_linux.go).
func newRawIO(c *net.UDPConn) packetIO { return c }

// pollerFor is nil: the receive goroutine reads every packet.
func pollerFor(packetIO) poller { return nil }

// recvBatchLen and recvBatch exist for drainRTP to compile; without a poller nothing uses them.
const recvBatchLen = 1

type recvBatch struct{}

func (*recvBatch) datagram(int) ([]byte, netip.AddrPort, time.Time) {
	return nil, netip.AddrPort{}, time.Time{}
}
