//go:build !linux

package media

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/pion/rtp"
)

// sendQueue batches RTP sends on Linux (sendq_linux.go); elsewhere every datagram is sent
// directly, and there is never a queue.
type sendQueue struct{}

const (
	batchMinSessions  = 8
	recvQueueSessions = 64
)

func newSendQueue(*lateHist, *slog.Logger) *sendQueue                            { return nil }
func (q *sendQueue) total() uint64                                               { return 0 }
func (q *sendQueue) queue(*Session, []byte, netip.AddrPort, int, time.Time) bool { return false }
func (q *sendQueue) flush()                                                      {}
func (q *sendQueue) close()                                                      {}

// recvQueue reads RTP in batches on Linux (recvq_linux.go); elsewhere there is never one.
type recvQueue struct{}

func newRecvQueue(*slog.Logger) *recvQueue                   { return nil }
func (q *recvQueue) read([]*Session)                         {}
func (q *recvQueue) deliver(int, *Session, *rtp.Packet) bool { return true }
func (q *recvQueue) close()                                  {}
