package media

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/logging"
	"github.com/pion/stun/v3"
	"github.com/pion/turn/v4"
)

// packetIO is what the media loops need of a datagram socket. *net.UDPConn is one; a TURN
// relay (relayIO) is another.
type packetIO interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
	Close() error
}

// Relay is a TURN server (RFC 8656) and the long-term credentials to use there.
type Relay struct {
	Server   netip.AddrPort
	User     string
	Password string
}

// UseRelay allocates relayed addresses for RTP and RTCP on a TURN server and sends and
// receives all media through them from then on; the returned addresses go into our SDP. It
// is for networks where nothing else works: a symmetric NAT that gives every destination a
// new port, talking to a far end that does not latch. It must be called before Start.
func (s *Session) UseRelay(ctx context.Context, r Relay) (rtp, rtcp netip.AddrPort, err error) {
	s.mu.Lock()
	started := !s.started.IsZero()
	s.mu.Unlock()
	if started {
		return netip.AddrPort{}, netip.AddrPort{}, errors.New("media: TURN after Start")
	}
	dropped := func() { s.stats.dropped.Add(1) }
	logs := pionLogs{s.log}
	rtpRelay, rtpAddr, err := allocateAgain(ctx, s.rtpConn, r, logs, dropped)
	if err != nil {
		return netip.AddrPort{}, netip.AddrPort{}, fmt.Errorf("turn %s: rtp: %w", r.Server, err)
	}
	rtcpRelay, rtcpAddr, err := allocateAgain(ctx, s.rtcpConn, r, logs, func() {})
	if err != nil {
		// Release the RTP allocation and stop its reader: the call goes on without a relay
		// on the same socket, and the reader would drop the far end's packets as not the
		// server's.
		rtpRelay.Close()
		rtpRelay.closeClient()
		return netip.AddrPort{}, netip.AddrPort{}, fmt.Errorf("turn %s: rtcp: %w", r.Server, err)
	}
	s.rtpIO, s.rtcpIO = rtpRelay, rtcpRelay
	s.relays = append(s.relays, rtpRelay.closeClient, rtcpRelay.closeClient)
	s.log.Info("media relayed through TURN", "server", r.Server.String(), "rtp", rtpAddr.String(), "rtcp", rtcpAddr.String())
	return rtpAddr, rtcpAddr, nil
}

// A TURN server answers an Allocate from a transport address that still has an allocation
// with 437 (Allocation Mismatch), without the nonce pion expects, so pion fails with
// stun.ErrAttributeNotFound. That is what happens when a call reuses the RTP port of a call
// that ended a moment ago (a narrow --rtp-ports range, behind a NAT that keeps the mapping):
// coturn frees a released allocation about a second after the Refresh that released it. So
// allocateAgain tries mismatchTries times, mismatchWait apart, before giving up.
const (
	mismatchTries = 3
	mismatchWait  = 700 * time.Millisecond
)

func allocateAgain(ctx context.Context, conn *net.UDPConn, r Relay, logs logging.LoggerFactory, dropped func()) (*relayIO, netip.AddrPort, error) {
	for try := 1; ; try++ {
		relay, addr, err := allocate(ctx, conn, r, logs, dropped)
		if !errors.Is(err, stun.ErrAttributeNotFound) {
			return relay, addr, err
		}
		if try == mismatchTries {
			return nil, netip.AddrPort{}, fmt.Errorf("the server still holds an allocation for this address (437 Allocation Mismatch), or does not ask for credentials: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, netip.AddrPort{}, fmt.Errorf("waiting for the server to free an earlier allocation: %w", ctx.Err())
		case <-time.After(mismatchWait):
		}
	}
}

// allocate runs a TURN client over conn and allocates one UDP relay. The client's reader owns
// conn from then on; closing the relay and the client stops it. dropped counts the datagrams
// the reader refuses.
func allocate(ctx context.Context, conn *net.UDPConn, r Relay, logs logging.LoggerFactory, dropped func()) (*relayIO, netip.AddrPort, error) {
	out := &clientConn{UDPConn: conn}
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: r.Server.String(), TURNServerAddr: r.Server.String(),
		Conn: out, Username: r.User, Password: r.Password, Software: "dialtone",
		LoggerFactory: logs,
	})
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	stopReader := feed(conn, c, r.Server, dropped)
	fail := func(err error) (*relayIO, netip.AddrPort, error) {
		stopReader()
		c.Close()
		return nil, netip.AddrPort{}, err
	}
	type result struct {
		pc  net.PacketConn
		err error
	}
	done := make(chan result, 1)
	go func() { pc, err := c.Allocate(); done <- result{pc, err} }()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		c.Close() // ends the transaction: Allocate returns, and its result is dropped
		<-done
		return fail(ctx.Err())
	}
	if res.err != nil {
		return fail(res.err)
	}
	ua, ok := res.pc.LocalAddr().(*net.UDPAddr)
	if !ok {
		res.pc.Close()
		return fail(fmt.Errorf("relayed address %v is not UDP", res.pc.LocalAddr()))
	}
	ap := ua.AddrPort()
	return &relayIO{pc: res.pc, client: c, out: out, stopReader: stopReader}, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// clientConn is the TURN client's way out through the session's socket, which the session
// owns and closes later. Once shut, it writes nothing: a transaction pion starts after its
// client closed (a permission whose request crossed the close) is registered too late for the
// close to end it, and retransmitted to the server for ~8 s, holding up the session's Close;
// its write now fails, which ends it.
type clientConn struct {
	*net.UDPConn
	shut atomic.Bool
}

func (c *clientConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.shut.Load() {
		return 0, net.ErrClosed
	}
	return c.UDPConn.WriteTo(b, addr)
}

// feed reads conn and hands the TURN server's datagrams to the TURN client, until the returned
// stop is called. pion's own Client.Listen would do the same, but its reader cannot be stopped
// short of closing the socket, so a failed allocation would leave it stealing the socket's
// packets. Everything from elsewhere is dropped (and counted): pion takes a Data indication or
// ChannelData from any source as the relay's, with the peer address the sender wrote in it, so
// anyone who can reach our socket (a LAN neighbour; anyone at all behind a NAT that filters by
// nothing) could otherwise speak as the far end. Media through a relay only ever comes from
// the relay.
func feed(conn *net.UDPConn, c *turn.Client, server netip.AddrPort, dropped func()) (stop func()) {
	server = netip.AddrPortFrom(server.Addr().Unmap(), server.Port())
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			select {
			case <-quit:
				return
			default:
			}
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue // a deadline from stop, or a transient error
			}
			if netip.AddrPortFrom(from.Addr().Unmap(), from.Port()) != server {
				dropped()
				continue
			}
			_, _ = c.HandleInbound(buf[:n], net.UDPAddrFromAddrPort(from)) // not STUN or channel data: nothing for the relay
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			_ = conn.SetReadDeadline(time.Now()) // wake the reader
			<-done
			_ = conn.SetReadDeadline(time.Time{})
		})
	}
}

// relayIO adapts a TURN relayed connection to packetIO. It remembers the last peer address
// it converted, so the steady stream to one far end allocates nothing per packet.
type relayIO struct {
	pc         net.PacketConn
	client     *turn.Client
	out        *clientConn // the client's writes, shut with it
	stopReader func()

	mu       sync.Mutex
	lastPeer netip.AddrPort
	lastUDP  *net.UDPAddr
	permits  map[netip.Addr]permitState // the TURN permissions made or being made (permit)
	permitWG sync.WaitGroup             // the goroutines making them
	once     sync.Once
	closed   atomic.Bool
}

// permit has the TURN permission for peer's address made in the background, with a
// keep-alive through the relay, unless it is made or being made. pion makes a permission
// inside the first WriteTo to a new peer address and waits there for the server's answer
// (retransmitting for seconds if it is lost): on the shared pacer that wait held up every
// session on its worker. Until it is made, WriteToUDPAddrPort drops what goes to that address,
// as the TURN server would.
func (r *relayIO) permit(peer netip.AddrPort) {
	if !peer.IsValid() {
		return
	}
	r.mu.Lock()
	if r.closed.Load() || r.permits[peer.Addr()] != permitNone { // closed: set under mu (closeClient)
		r.mu.Unlock()
		return
	}
	if r.permits == nil {
		r.permits = map[netip.Addr]permitState{}
	}
	r.permits[peer.Addr()] = permitPending
	r.permitWG.Add(1)
	r.mu.Unlock()
	go func() { // ends with pion's transaction, at the latest when the client closes
		defer r.permitWG.Done()
		_, err := r.pc.WriteTo(stunIndication, net.UDPAddrFromAddrPort(peer))
		r.mu.Lock()
		if err != nil {
			delete(r.permits, peer.Addr()) // the next packet to it tries again
		} else {
			r.permits[peer.Addr()] = permitDone
		}
		r.mu.Unlock()
	}()
}

type permitState uint8

const (
	permitNone permitState = iota
	permitPending
	permitDone
)

func (r *relayIO) permitted(peer netip.Addr) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.permits[peer] == permitDone
}

func (r *relayIO) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	n, from, err := r.pc.ReadFrom(b)
	if err != nil {
		if r.closed.Load() {
			err = net.ErrClosed // pion's own closed error is not net.ErrClosed; the loops stop on this one
		}
		return n, netip.AddrPort{}, err
	}
	ua, ok := from.(*net.UDPAddr)
	if !ok {
		return 0, netip.AddrPort{}, fmt.Errorf("relay: peer %v is not UDP", from)
	}
	ap := ua.AddrPort()
	return n, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// errNoPermission: a packet for a peer the TURN server has not (or not yet) let us send to was
// dropped. An error, so the session does not count it sent: a server that refuses the
// permission (403 for the peer's address) would otherwise show media flowing that never left.
var errNoPermission = errors.New("relay: no TURN permission for the peer yet: packet dropped")

func (r *relayIO) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	r.mu.Lock()
	if addr != r.lastPeer || r.lastUDP == nil { // the steady stream to one peer skips both
		if r.permits[addr.Addr()] != permitDone {
			r.mu.Unlock()
			r.permit(addr) // in the background: this packet is dropped meanwhile
			return 0, errNoPermission
		}
		r.lastPeer, r.lastUDP = addr, net.UDPAddrFromAddrPort(addr)
	}
	dst := r.lastUDP
	r.mu.Unlock()
	return r.pc.WriteTo(b, dst)
}

// Close releases the allocation (a Refresh with lifetime 0, which pion sends on Close).
func (r *relayIO) Close() error {
	r.closed.Store(true)
	return r.pc.Close()
}

func (r *relayIO) closeClient() {
	r.once.Do(func() {
		r.mu.Lock()
		r.closed.Store(true) // no permit starts after this
		r.mu.Unlock()
		r.stopReader()
		r.out.shut.Store(true) // before Close: a transaction that starts after it fails at once
		r.client.Close()
		r.permitWG.Wait() // their transactions ended with the client, or failed their first write
	})
}
