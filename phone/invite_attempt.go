package phone

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// inviteAttempt is one INVITE sent to one target: whether the server answered anything and,
// when we gave up on it, why.
type inviteAttempt struct {
	mu       sync.Mutex
	answered bool  // any response, even 100 Trying: the server is there
	rang     bool  // 180/183: the call is in progress there, never moved
	cause    error // why we abandoned the target (no answer in time, ICMP unreachable)
}

func (a *inviteAttempt) heard(res *sip.Response) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.answered = true
	if res.StatusCode > 100 && res.StatusCode < 200 {
		a.rang = true
	}
}

// heardAny reports whether the server has answered anything yet.
func (a *inviteAttempt) heardAny() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.answered
}

func (a *inviteAttempt) giveUp(cause error) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.answered || a.cause != nil {
		return false
	}
	a.cause = cause
	return true
}

// failsOver says whether the INVITE's outcome moves the call to the next target: we gave up
// on a silent server, the transport failed before any response, or a 503 came before ringing.
func (a *inviteAttempt) failsOver(err error) bool {
	if err == nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cause != nil {
		return true
	}
	var dr *sipgo.ErrDialogResponse
	if errors.As(err, &dr) {
		return dr.Res.StatusCode == 503 && !a.rang
	}
	if a.answered || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // the ring timeout or a hang-up, not the server
	}
	return true // a refused connection, a transaction error before any response
}

// asError describes the attempt for the error naming every target.
func (a *inviteAttempt) asError(op, dest string, t Transport, err error) error {
	var dr *sipgo.ErrDialogResponse
	if errors.As(err, &dr) {
		return &Error{Op: op, Failure: FailureNetwork, Code: int(dr.Res.StatusCode), Reason: dr.Res.Reason}
	}
	if a.cause != nil {
		err = a.cause
	}
	return transportError(op, dest, t, err)
}

// inviteOnce sends req and waits for its final response. It gives up on a server that an
// ICMP unreachable says is not there (UDP) and, with several targets, on one that sends
// nothing within attemptTimeout; sipgo then forgets the transaction at once (no CANCEL:
// nothing to cancel). A hang-up before any response returns at once and leaves the INVITE
// to followAbandonedInvite (invite_abandoned.go), as does a cancelled INVITE whose final
// response has not come within cancelGrace.
func (p *Phone) inviteOnce(ringCtx context.Context, ua *sipgo.DialogUA, req *sip.Request, l *leg, n int,
	onResponse func(*sip.Response) error) (*sipgo.DialogClientSession, *sip.Response, *inviteAttempt, error) {
	a := &inviteAttempt{}
	if err := ringCtx.Err(); err != nil {
		// Hung up, or out of ring time, while this INVITE was made ready (a challenge answered,
		// a slow password source read): it does not go out, or the callee would ring a moment
		// for nobody, then get our CANCEL.
		return nil, nil, a, err
	}
	// actx follows ringCtx by hand: sipgo answers a cancelled context with a CANCEL, which
	// RFC 3261 9.1 forbids before a provisional response and which sipgo therefore holds until
	// one comes — 32 s (Timer B) when the server is silent. With nothing heard, the ring
	// timeout gives up on the server at once (a network failure: "no response from …"), and a
	// hang-up ends the call at once while the INVITE is followed in the background.
	actx, cancel := context.WithCancelCause(context.WithoutCancel(ringCtx))
	defer cancel(nil) // for an INVITE followed in the background (hungUpEarly): sipgo's CANCEL
	abandon := func(cause error) {
		if a.giveUp(cause) {
			cancel(sipgo.WaitAnswerForceCancelErr)
		}
	}
	hungUpEarly, cancelled := make(chan struct{}), make(chan struct{})
	stopFollowing := context.AfterFunc(ringCtx, func() {
		switch {
		case a.heardAny():
			cancel(context.Cause(ringCtx)) // sipgo sends the CANCEL
			close(cancelled)
		case errors.Is(ringCtx.Err(), context.DeadlineExceeded):
			abandon(errNoResponse)
		default:
			close(hungUpEarly) // the user hung up: the call ends now, the INVITE is followed
		}
	})
	defer stopFollowing()
	if timeout := timeoutFor(n); timeout > 0 {
		timer := time.AfterFunc(timeout, func() {
			abandon(fmt.Errorf("%w within %v: %w", errNoAnswer, timeout, context.DeadlineExceeded))
		})
		defer timer.Stop()
	}
	if l.transport == UDP { // also for a lone target: "refused" now rather than silence for 32 s
		pctx, pcancel := context.WithCancelCause(actx)
		stop := watchUnreachable(pctx, req.Destination(), func(cause error) { abandon(cause); pcancel(cause) },
			probeDelayWithin(timeoutFor(n)), a.heardAny)
		defer stop()
		defer pcancel(nil)
	}
	var followed atomic.Bool // the call has ended; responses are the background follower's
	wrapped := func(res *sip.Response) error {
		a.heard(res)
		if followed.Load() {
			return nil
		}
		return onResponse(res)
	}
	sess, err := ua.WriteInvite(actx, req)
	if err == nil && (l.transport == TCP || l.transport == TLS) {
		stop := watchInviteConnection(actx, ua.Client.TransportLayer(), l.transport, req, a.heardAny, abandon)
		defer stop()
	}
	if err == nil {
		done := make(chan error, 1)
		go func() { done <- waitAnswer(actx, sess, sipgo.AnswerOptions{OnResponse: wrapped}) }()
		// leave ends the call now and leaves the INVITE to a background follower.
		leave := func() (*sipgo.DialogClientSession, *sip.Response, *inviteAttempt, error) {
			followed.Store(true)
			p.followAbandonedInvite(sess, done)
			return sess, nil, a, context.Canceled
		}
		select {
		case err = <-done:
		case <-hungUpEarly:
			return leave()
		case <-cancelled:
			select {
			case err = <-done: // the 487, or a 200 that crossed the CANCEL
			case <-time.After(cancelGrace):
				// No final response to a cancelled INVITE: sipgo waits for one until Timer B
				// (32 s), and the call, a hang-up or a ring timeout the user has seen, would
				// seem to ring on. It ends now; a late 200 still gets its ACK and BYE.
				return leave()
			}
		}
	}
	var res *sip.Response
	if sess != nil {
		res = sess.InviteResponse
	}
	return sess, res, a, err
}

// watchInviteConnection gives up on an INVITE whose TCP or TLS connection closes before the
// server answered anything: RFC 3261 17.1.4 makes that a transport error, which fails over at
// once, where sipgo left the transaction to Timer B (32 s) or the ring timeout. Once anything
// is heard it stops looking: a proxy may send its final response over a new connection (RFC
// 3261 18.2.2). The connection is the one sipgo's pool holds under the Via's sent-by (sipgo
// writes the connection's own address there) or else under the destination; if it holds
// neither, the connection closed before the watch began (connWatch: two looks in a row). stop
// waits for the watcher to finish.
func watchInviteConnection(ctx context.Context, tp *sip.TransportLayer, t Transport, req *sip.Request, heard func() bool, giveUp func(error)) (stop func()) {
	pool := tp.Pool(t.String())
	if pool == nil {
		return func() {}
	}
	var conn sip.Connection
	var keys []string
	if via := req.Via(); via != nil && via.Port > 0 {
		keys = append(keys, net.JoinHostPort(via.Host, strconv.Itoa(via.Port)))
	}
	for _, k := range append(keys, req.Destination()) {
		if c := pool.Get(k); c != nil {
			c.TryClose() // Get took a reference
			conn = c
			break
		}
	}
	watch := connWatch{tp: tp, t: t, conn: conn}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(connWatchEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if heard() {
				return
			}
			if watch.closed() {
				break
			}
		}
		local := req.Destination()
		if conn != nil {
			local = conn.LocalAddr().String()
		}
		giveUp(fmt.Errorf("%s: %w", local, errConnClosed))
	}()
	return func() { cancel(); <-done }
}

// waitAnswer is sipgo's WaitAnswer without its limit of ten responses: it gives up on the
// eleventh, 1xx included, with no CANCEL and the transaction left open, so a call through a
// proxy forking to a ring group (a 180 and a 183 from each phone) or a queue that repeats its
// 183 failed as a network error while the phones rang on. The wait goes on where it stopped;
// the ring timeout and the user's hang-up still end it.
func waitAnswer(ctx context.Context, sess *sipgo.DialogClientSession, opts sipgo.AnswerOptions) error {
	for {
		err := sess.WaitAnswer(ctx, opts)
		if err == nil || err.Error() != tooManyResponses {
			return err
		}
	}
}

// tooManyResponses is the error sipgo v1.7.3's WaitAnswer gives up with (it has no variable
// to compare with); TestManyProvisionalResponses fails if a new version words it otherwise.
const tooManyResponses = "more than 10 responses received"
