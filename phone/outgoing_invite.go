package phone

import (
	"context"
	"errors"

	lifecycle "github.com/dialtone/dialtone/phone/call"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// inviteWithFailover sends the INVITE to the leg's targets in turn until one of them answers
// (RFC 3263 4.3), and answers a digest challenge when the state machine asks for it. It
// returns the last attempt's outcome. When the machine has already ended the call (every
// target failed, or no credentials could be made) x.resolved is set and nothing is left to do.
//
// A 3xx moves the INVITE to the targets it names (redirect.go); the leg it returns is the one
// the last INVITE went on (a direct call's redirect goes to another host).
func (p *Phone) inviteWithFailover(ringCtx context.Context, stk *stack, c *call, req *sip.Request, l *leg, op string,
	x *outgoingRun, onResponse func(*sip.Response) error) (*sipgo.DialogClientSession, *sip.Response, *leg, error) {
	ti := 0 // which of l.targets the INVITE goes to
	var tried []attempt
	var answers digestAnswers // the challenges answered so far (digest.go)
	redirects := newRedirectSet(req.Recipient)
	offer, secureOffer := req.Body(), x.secureOffer // what each redirect target is offered afresh
	ua := dialogUA(l)
	endWith := func(in lifecycle.Input, err error) {
		x.err, x.resolved = err, true
		x.step(in)
	}
	for {
		// A silent target is left after attemptTimeout when others wait: servers, or the
		// targets a 3xx named.
		sess, res, a, err := p.inviteOnce(ringCtx, ua, req, l, len(l.targets)+redirects.left(), onResponse)
		if a.failsOver(err) && ti+1 < len(l.targets) && ringCtx.Err() == nil {
			// No provisional response (or a 503) from this server: RFC 3263 4.3, the next one.
			// Not once the ring timeout is over: each next INVITE would be given up at once,
			// with no CANCEL possible, and a live server's callee rang on.
			tried = append(tried, attempt{l.targets[ti], a.asError(op, req.Destination(), l.transport, err)})
			p.log.Info("call: server did not answer; trying the next", "call", c.id, "target", l.targets[ti].String(), "err", err)
			ti++
			next := retryOf(req)
			next.SetDestination(l.targets[ti].Addr.String())
			routeVia(next, next.Destination())
			req = next
			continue
		}
		if a.failsOver(err) && len(tried) > 0 && redirects.left() == 0 {
			tried = append(tried, attempt{l.targets[ti], a.asError(op, req.Destination(), l.transport, err)})
			fe := failoverError(op, tried)
			endWith(lifecycle.Failed{Reason: fe.Reason, Failure: lifecycle.Failure(fe.Failure)}, fe)
			return nil, nil, l, fe
		}
		var failed *sip.Response // the final response that ended the attempt, if one did
		code := 0
		var dr *sipgo.ErrDialogResponse
		if errors.As(err, &dr) {
			failed, code = dr.Res, int(dr.Res.StatusCode)
		}
		challenged := code == 401 || code == 407
		if challenged && c.account == nil && redirects.left() > 0 {
			challenged = false // no credentials to answer with: the next redirect target, below
		}
		if challenged {
			challenge := lifecycle.Response{Code: code, Reason: failed.Reason, Stale: hasStaleChallenge(failed)}
			x.resend = false
			x.step(challenge)
			if !x.resend { // a second challenge, or no account to answer with: the machine ended it
				x.resolved = true
				return sess, res, l, err
			}
			pw, perr := p.wire(c.account.Name).passwordFor(ringCtx) // a hang-up ends a slow source's wait
			if perr != nil && ringCtx.Err() != nil {
				return sess, res, l, ringCtx.Err() // hung up, or out of ring time, meanwhile
			}
			if perr != nil {
				endWith(lifecycle.CredentialsFailed{Code: challenge.Code, Reason: challenge.Reason}, perr)
				return sess, res, l, perr
			}
			next := retryOf(req)
			answers.add(failed, c.account.AuthUser, pw)
			if aerr := answers.apply(next); aerr != nil { // each challenge so far, with its next nonce-count
				endWith(challenge, aerr) // credentials count as sent: the machine ends it as an auth failure
				return sess, res, l, aerr
			}
			req = next
			continue
		}
		if code == 488 && x.secureOffer != nil {
			// Our best-effort SDES offer (RTP/AVP with keys) met a peer that takes SRTP only as
			// RTP/SAVP and refuses the rest (baresip's srtp-mand): offer again, once, as
			// RTP/SAVP with the same keys, as a new transaction of the same dialog attempt.
			p.log.Info("call: the far end refused RTP/AVP with SRTP keys; offering RTP/SAVP", "call", c.id)
			next := retryOf(req)
			next.SetBody(x.secureOffer) // before the credentials: qop=auth-int hashes the body
			_ = answers.apply(next)     // answered before: the same challenges, the next nonce-counts
			x.secureOffer, req = nil, next
			continue
		}
		if redirecting(code) {
			redirects.add(failed)
		}
		if err != nil && followsRedirect(code) && ringCtx.Err() == nil {
			if next, nl, ok := p.nextRedirect(ringCtx, stk, c, req, l, redirects, x, failed); ok {
				// The new target is offered what the first was, and challenges anew: the far
				// end's answer (401) is not sent where a 3xx pointed, the proxy's (407) goes
				// on, recomputed for the new Request-URI.
				next.SetBody(offer)
				x.secureOffer = secureOffer
				answers.dropUser()
				next.RemoveHeader("Authorization")
				_ = answers.apply(next)
				if nl != l {
					l, ua, ti = nl, dialogUA(nl), 0
				}
				tried = nil // RFC 3263 failover starts afresh for this target
				req = next
				continue
			}
		}
		if a.cause != nil && err != nil {
			err = a.cause // our own giving up on the last target, in words
		}
		return sess, res, l, err
	}
}

// nextRedirect is our INVITE to the next target of redirects that can be reached, when a 3xx
// named any, and the leg it goes on; the machine and the front end hear of the move, and of
// failed, the response that moved it (nil: no response came).
func (p *Phone) nextRedirect(ctx context.Context, stk *stack, c *call, req *sip.Request, l *leg, redirects *redirectSet,
	x *outgoingRun, failed *sip.Response) (*sip.Request, *leg, bool) {
	code, reason := 0, ""
	if failed != nil {
		code, reason = int(failed.StatusCode), failed.Reason
	}
	for {
		uri, ok := redirects.next()
		if !ok || ctx.Err() != nil { // none left, or hung up while a target was looked up
			return nil, nil, false
		}
		next, nl, err := p.redirectInvite(ctx, stk, c, req, l, uri)
		if err != nil {
			p.log.Info("call: redirect target not tried", "call", c.id, "target", uri.String(), "err", err)
			continue
		}
		p.noteRedirect(x, c, req.Recipient, uri, code, reason)
		return next, nl, true
	}
}
