package phone

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dialtone/dialtone/phone/resolve"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// attemptTimeout is how long one target of several gets to answer a request before the next
// is tried (RFC 3263 section 4.3). The SIP transaction timer (64*T1 = 32 s) is far too long to
// wait for a dead server when another one is listed: a user would see nothing happen for half
// a minute per dead target. Five seconds still covers four UDP retransmissions (0, 0.5, 1.5,
// 3.5 s) and any living server's round trip. A target that refuses (TCP RST, or ICMP port
// unreachable seen by the UDP probe below) is left at once. A lone target keeps the full
// transaction timer: there is nothing to fail over to.
var attemptTimeout = 5 * time.Second // a variable for tests only

// attempt is one target tried and what happened there.
type attempt struct {
	target resolve.Target
	err    error
}

// failsOver says whether err from one target means "try the next one": no answer, a refused
// or unreachable connection, or 503 Service Unavailable.
func failsOver(err error) bool {
	var pe *Error
	if !errors.As(err, &pe) {
		return false
	}
	if pe.Code == 503 {
		return true
	}
	return pe.Code == 0 && pe.Failure == FailureNetwork
}

// failoverError is the error of a set where no target answered: every target tried, and what
// happened to each. Only network failures make it FailureNetwork (exit 4); if a server
// answered 503, that is the class.
func failoverError(op string, tried []attempt) *Error {
	if len(tried) == 1 {
		var pe *Error
		if errors.As(tried[0].err, &pe) {
			return pe
		}
	}
	parts := make([]string, 0, len(tried))
	e := &Error{Op: op, Failure: FailureNetwork}
	// A Retry-After holds for the list only when every server said one, and then the
	// soonest: one server's hour in maintenance says nothing of the others.
	retryAll := true
	for _, a := range tried {
		what := a.err.Error()
		var retry time.Duration
		var pe *Error
		if errors.As(a.err, &pe) {
			what, retry = pe.Reason, pe.RetryAfter
			if pe.Code != 0 {
				what = fmt.Sprintf("%d %s", pe.Code, pe.Reason)
				e.Failure, e.Code = pe.Failure, pe.Code
			}
		}
		switch {
		case retry == 0:
			retryAll = false
		case e.RetryAfter == 0 || retry < e.RetryAfter:
			e.RetryAfter = retry
		}
		parts = append(parts, fmt.Sprintf("%s: %s", a.target, what))
	}
	if !retryAll {
		e.RetryAfter = 0
	}
	e.Reason = fmt.Sprintf("no server answered (%d tried: %s)", len(tried), strings.Join(parts, "; "))
	e.Code = 0 // the summary is not one server's response
	return e
}

// errNoAnswer is why an attempt was abandoned after attemptTimeout.
var errNoAnswer = errors.New("no answer")

// errNoResponse is why a call was given up when its ring timeout came and the server had sent
// nothing at all: a network failure, not a call nobody answered.
var errNoResponse = silentServer{}

// silentServer says, once, that nothing came back; it is also a context.DeadlineExceeded, so
// transportError words it as "no response from …".
type silentServer struct{}

func (silentServer) Error() string { return "nothing came back before the ring timeout" }

func (silentServer) Is(target error) bool { return target == context.DeadlineExceeded }

// doAttempt sends one non-INVITE request to one target and waits for its final response, at
// most timeout (0: the transaction's own timer, for a lone target); over UDP a probe notices
// an ICMP "port unreachable" and gives up on the target at once, over TCP and TLS a connection
// that closes before the response does (do).
func doAttempt(ctx context.Context, client *sipgo.Client, req *sip.Request, t Transport, dest string, timeout time.Duration) (*sip.Response, error) {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// A provisional response came: the server has the request. RFC 3263 §4.3 moves to the next
	// server when one does not respond; one that said 100 Trying is working on it (a MESSAGE it
	// forwards to a slow recipient), and the same request at the next server would reach the
	// recipient twice. The transaction then runs its own course (Timer F), and the probe below
	// stays quiet (a peer that answers to the last source would send its final response there).
	var provisional atomic.Bool
	heard := func() { provisional.Store(true) }
	if timeout > 0 {
		timer := time.AfterFunc(timeout, func() { cancel(fmt.Errorf("%w within %v: %w", errNoAnswer, timeout, context.DeadlineExceeded)) })
		defer timer.Stop()
		heard = func() { provisional.Store(true); timer.Stop() }
	}
	// Even a lone target is worth the probe: "connection refused" at once says more than
	// "no response" after 32 s (RFC 3261 18.4: ICMP errors are transport errors).
	if t == UDP {
		stop := watchUnreachable(actx, dest, cancel, probeDelayWithin(timeout), provisional.Load)
		defer stop()
	}
	res, err := do(actx, client, req, t, heard)
	if err != nil && ctx.Err() == nil {
		if cause := context.Cause(actx); cause != nil && actx.Err() != nil {
			return nil, cause
		}
	}
	return res, err
}

// errConnClosed: the TCP or TLS connection a request went out on closed before its response.
var errConnClosed = errors.New("the connection closed before the response came")

// connWatchEvery is how often a request over TCP or TLS looks whether its connection is still
// there while it waits.
const connWatchEvery = 200 * time.Millisecond

// do is sipgo's Client.Do, except that over TCP and TLS the request fails as soon as its
// connection is gone (RFC 3261 17.1.4: a transport error ends the transaction). sipgo closes a
// connection whose peer reset or closed it, but leaves its transactions to their 32 s timer:
// a registrar killed while a REGISTER was on the wire kept the account waiting that long.
// provisional, if not nil, is called at the first provisional response.
func do(ctx context.Context, client *sipgo.Client, req *sip.Request, t Transport, provisional func()) (*sip.Response, error) {
	tx, err := client.TransactionRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	var tick <-chan time.Time
	var conn sip.Connection
	var watch connWatch
	if t == TCP || t == TLS {
		if c, ok := tx.(interface{ Connection() sip.Connection }); ok && c.Connection() != nil {
			conn = c.Connection()
			watch = connWatch{tp: client.TransportLayer(), t: t, conn: conn}
			ticker := time.NewTicker(connWatchEvery)
			defer ticker.Stop()
			tick = ticker.C
		}
	}
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				if provisional != nil {
					provisional()
					provisional = nil
				}
				continue
			}
			return res, nil
		case <-tx.Done():
			return nil, tx.Err()
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick:
			if watch.closed() {
				return nil, fmt.Errorf("%s: %w", conn.LocalAddr(), errConnClosed)
			}
		}
	}
}

// connWatch looks, every connWatchEvery, whether sipgo still holds a request's TCP or TLS
// connection (nil: one it held under none of the addresses looked at, so closed already).
// closed says it is gone on two looks in a row, so that a response read just before the close
// is taken first.
type connWatch struct {
	tp   *sip.TransportLayer
	t    Transport
	conn sip.Connection
	gone int // looks in a row that found it gone
}

func (w *connWatch) closed() bool {
	if w.conn != nil && connAlive(w.tp, w.t, w.conn) {
		w.gone = 0
		return false
	}
	w.gone++
	return w.gone >= 2
}

// connAlive says whether sipgo still holds conn: its pool drops a connection once it closes
// (the peer closed or reset it, or a write failed).
func connAlive(tp *sip.TransportLayer, t Transport, conn sip.Connection) bool {
	pool := tp.Pool(t.String())
	if pool == nil || conn.LocalAddr() == nil {
		return true // nothing to look in: leave it to the transaction's timer
	}
	c := pool.Get(conn.LocalAddr().String())
	if c == nil {
		return false
	}
	c.TryClose() // Get took a reference
	return c == conn
}

// probeDelay is how long a request waits for any answer before the ICMP probe starts: a
// living server has answered by then (100 Trying, or the final response), and a closed port
// is still reported within about a second instead of after the 32 s transaction timeout.
const probeDelay = time.Second

// probeDelayWithin is probeDelay, or half of a shorter per-target timeout (0: none).
func probeDelayWithin(timeout time.Duration) time.Duration {
	if timeout > 0 && timeout/2 < probeDelay {
		return timeout / 2
	}
	return probeDelay
}

// watchUnreachable sends a CRLF keep-alive (RFC 5626 4.4.1: servers ignore it) from a
// connected UDP socket to dest and reads: Linux reports an ICMP port or host unreachable as an
// error on a connected socket only, and our SIP socket is not connected. The error cancels
// the attempt. stop ends the probe and waits for it.
func watchUnreachable(ctx context.Context, dest string, cancel context.CancelCauseFunc, delay time.Duration, heard func() bool) (stop func()) {
	conn, err := net.Dial("udp", dest)
	if err != nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer conn.Close()
		// A server that answers at once never sees the probe: some peers (sipp) send their
		// responses to wherever the last datagram came from, and the probe's socket would then
		// swallow them.
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		if heard != nil && heard() {
			return
		}
		crlf := []byte("\r\n\r\n")
		buf := make([]byte, 512)
		// Three probes like the first SIP retransmissions: one ICMP may be rate-limited or lost.
		for _, wait := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second} {
			_, werr := conn.Write(crlf)
			if unreachable(werr) {
				cancel(fmt.Errorf("%s: %w", dest, werr))
				return
			}
			_ = conn.SetReadDeadline(time.Now().Add(wait))
			select {
			case <-done: // stop's deadline came before ours and was overwritten
				return
			default:
			}
			for {
				_, rerr := conn.Read(buf)
				if unreachable(rerr) {
					cancel(fmt.Errorf("%s: %w", dest, rerr))
					return
				}
				if rerr != nil {
					break // deadline: probe again, or closed by stop
				}
			}
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			default:
			}
		}
	})
	return func() {
		close(done)
		_ = conn.SetReadDeadline(time.Now())
		wg.Wait()
	}
}

func unreachable(err error) bool {
	return err != nil && (errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH))
}

// firstAt puts the target at addr (ip:port, "" for none) first, keeping the others' order:
// the server that worked last time is tried first, the list from the top after it.
func firstAt(ts []resolve.Target, addr string) []resolve.Target {
	if addr == "" {
		return ts
	}
	for i, t := range ts {
		if t.Addr.String() == addr {
			out := make([]resolve.Target, 0, len(ts))
			out = append(out, t)
			out = append(out, ts[:i]...)
			return append(out, ts[i+1:]...)
		}
	}
	return ts
}

// timeoutFor is the per-target timeout for a set of n targets.
func timeoutFor(n int) time.Duration {
	if n > 1 {
		return attemptTimeout
	}
	return 0
}

// retryOf is req sent again as a new transaction of the same request (after a challenge, to
// the next server, a redirect target, a re-offer): a copy without its Via, which sipgo adds
// afresh with a new branch, and the next CSeq (RFC 3261 8.1.3.5).
func retryOf(req *sip.Request) *sip.Request {
	next := req.Clone()
	next.RemoveHeader("Via")
	next.CSeq().SeqNo++
	return next
}

// routeVia points req's Route (our outbound proxy or registrar, loose routing with ;lr) at
// dest, the ip:port the request is sent to: sipgo sends a CANCEL by the INVITE's Route, so it
// reaches the same server as its INVITE (RFC 3261 9.1) rather than whatever sipgo's own DNS
// picks, and a proxy recognises itself by address even where its name is only in our DNS.
func routeVia(req *sip.Request, dest string) {
	h, ok := req.GetHeader("Route").(*sip.RouteHeader)
	if !ok || h == nil {
		return
	}
	host, port, err := net.SplitHostPort(dest)
	if err != nil {
		return
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // an IPv6 address: sipgo makes the CANCEL's destination of host:port as it is
	}
	r := &sip.RouteHeader{Address: *h.Address.Clone()}
	r.Address.Host, r.Address.Port = host, n
	req.ReplaceHeader(r)
}
