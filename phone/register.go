package phone

import (
	"context"
	"errors"
	"time"
)

// registrar is the wire side of one account's registration. The loop below owns timing
// (refresh, backoff, unregister on shutdown); the wire owns SIP. Tests pair the loop with a
// fake wire and a fake clock.
type registrar interface {
	// register asks for a binding of the given lifetime (0 removes it), answering digest
	// challenges. A failure is an *Error.
	register(ctx context.Context, expires time.Duration) (regResult, error)
}

// regResult is a successful REGISTER.
type regResult struct {
	Code    int
	Reason  string
	Expires time.Duration // granted by the registrar
	Contact string        // our binding as the registrar sees it
}

// unregisterTimeout bounds the Expires: 0 REGISTER at shutdown, so quitting never hangs on
// a registrar that went away.
const unregisterTimeout = 4 * time.Second

// flowMinLife is how long a binding's TCP or TLS connection must have lived for its death to
// be taken for an accident and answered with a REGISTER at once.
const flowMinLife = 2 * time.Minute

// authRetryAfter is how long an account that was registered waits after its credentials are
// refused (or its password source fails) before it tries again.
const authRetryAfter = 10 * time.Minute

// passwordRetryAfter is how long an account whose password source failed waits before it
// asks the source again (errPasswordSource): not so often that a keyring's unlock prompt
// comes back at once, not so rarely that a keyring unlocked after login leaves it offline.
const passwordRetryAfter = time.Minute

// regLoop keeps one account registered until its context ends, then unregisters.
type regLoop struct {
	account string
	aor     string
	expires time.Duration
	wire    registrar
	clock   Clock
	backoff *backoff
	publish func(AccountStatus)
	// lost says that the TCP or TLS connection of a binding died (flow.go watches it); nil
	// for UDP accounts. The loop re-registers at once instead of at the next refresh.
	lost <-chan flowLoss
}

func (l *regLoop) status(s RegState) AccountStatus {
	return AccountStatus{Time: l.clock.Now(), Account: l.account, AOR: l.aor, State: s}
}

func (l *regLoop) run(ctx context.Context) {
	everRegistered := false
	var boundFlow string  // the connection the binding went on first (TCP, TLS; UDP: its address)
	var boundAt time.Time // and when: a refresh on the same one keeps the time
	youngLoss := false    // the binding's connection died within flowMinLife of its first REGISTER
	first := true
	flow := "" // the connection (local address) of the current binding, over TCP and TLS
	for {
		if first {
			l.publish(l.status(Registering))
			first = false
		}
		res, err := l.wire.register(ctx, l.expires)
		everRegistered = everRegistered || err == nil // a binding made as we stop is removed too
		if ctx.Err() != nil {
			break
		}
		var wait time.Duration
		flow = ""
		if err == nil {
			flow = flowOf(res.Contact)
			if flow != boundFlow {
				boundFlow, boundAt = flow, l.clock.Now()
			}
			if !youngLoss {
				l.backoff.reset()
			}
			st := l.status(Registered)
			st.Code, st.Reason, st.Expires, st.Contact = res.Code, res.Reason, res.Expires, res.Contact
			l.publish(st)
			wait = refreshAfter(res.Expires)
		} else {
			st := l.status(RegFailed)
			st.Err = err
			var pe *Error
			if errors.As(err, &pe) {
				st.Code, st.Reason, st.Failure = pe.Code, pe.Reason, pe.Failure
			} else {
				st.Reason, st.Failure = err.Error(), FailureNetwork
			}
			credentials := st.Failure == FailureAuth || st.Failure == FailureConfig
			switch {
			case credentials && errors.Is(err, errPasswordSource):
				// The source, not the password: dialtone started at login before the keyring
				// was unlocked. Asked again in a while, and never by the registrar meanwhile.
				wait = passwordRetryAfter
			case credentials && !everRegistered:
				// Retrying cannot fix a wrong password; retrying would only lock the account.
				l.publish(st)
				<-ctx.Done()
			case credentials:
				// These credentials were taken before: a refusal now is the provider's
				// trouble (its user database down) or the password source's (a keyring
				// locked again), and the account must not stay offline until a restart.
				// Rarely, so as not to lock the account if the password did change.
				wait = authRetryAfter
			default:
				wait = l.backoff.next()
				if pe != nil && pe.RetryAfter > wait {
					wait = pe.RetryAfter // the registrar said when (a 503 for maintenance)
				}
			}
			if ctx.Err() != nil {
				break
			}
			st.RetryIn = wait
			l.publish(st)
		}
		loss, woke := l.sleep(ctx, wait, flow)
		if !woke {
			break
		}
		youngLoss = false
		if loss.reason != "" {
			st := l.status(Recovering)
			st.Reason = loss.reason
			// A connection that dies soon after its REGISTER (a registrar or middlebox that
			// closes each one) would have us reconnect in a tight loop: RFC 5626 4.5 asks for
			// an exponential wait between new connections, so such deaths back off.
			if youngLoss = !loss.slept && l.clock.Now().Sub(boundAt) < flowMinLife; youngLoss {
				st.RetryIn = l.backoff.next()
			}
			l.publish(st)
			if st.RetryIn > 0 {
				if _, woke := l.sleep(ctx, st.RetryIn, ""); !woke {
					break
				}
			}
		}
	}
	if everRegistered {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unregisterTimeout)
		_, err := l.wire.register(uctx, 0)
		cancel()
		st := l.status(Unregistered)
		if err != nil {
			st.Err = err
			st.Reason = err.Error()
		}
		l.publish(st)
	}
}

// flowLoss reports that the connection a binding lived on is gone.
type flowLoss struct {
	flow   string // the connection's local address, as in the binding's Contact
	reason string // for people: what happened to it
	// slept: the computer was asleep (keepalive.go), not the connection dying young, which
	// backs off however little of the binding's life was awake.
	slept bool
}

// sleep waits for the refresh time; a report that the current binding's connection died cuts
// it short (and is returned). Reports about other connections (an older binding's, already
// replaced) are ignored. It returns false when ctx ended.
func (l *regLoop) sleep(ctx context.Context, wait time.Duration, flow string) (flowLoss, bool) {
	t := l.clock.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-t.C():
			return flowLoss{}, true
		case <-ctx.Done():
			return flowLoss{}, false
		case loss := <-l.lost:
			if flow != "" && loss.flow == flow {
				return loss, true
			}
		}
	}
}
