package phone

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/dialtone/dialtone/phone/media"
	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// defaultRingTimeout is how long an outgoing call may ring before dialtone cancels it.
const defaultRingTimeout = 60 * time.Second

// Dial places a call to target (a SIP URI, or user@host) through account ("" for a direct
// call with no account). It returns the call's id at once; progress arrives as CallStatus
// events. a is used once the call is answered (early media is only played).
func (p *Phone) Dial(accountName, target string, a CallAudio, opts DialOptions) (string, error) {
	stk := p.runningStack()
	if stk == nil {
		return "", ErrNotRunning
	}
	var acc *account
	if accountName != "" {
		for _, x := range p.accountList() {
			if x.Name == accountName {
				acc = x
			}
		}
		if acc == nil {
			return "", fmt.Errorf("dial: no account named %q", accountName)
		}
	}
	uri, err := parseTarget(target, acc)
	if err != nil {
		return "", err
	}
	c := newCall(p.newCallID(), acc, Outgoing)
	c.status = CallStatus{ID: c.id, Account: c.accountName(), Direction: Outgoing, Peer: uri.String(), State: CallCalling, Started: p.clock.Now()}
	if opts.RingTimeout <= 0 {
		opts.RingTimeout = defaultRingTimeout
	}
	if !p.addCall(c) {
		return "", fmt.Errorf("dial: already %d calls in progress, or the phone is stopping", p.maxCalls())
	}
	go p.runOutgoing(stk, c, uri, a, opts) // owned through callWG: Run waits for it
	return c.id, nil
}

// parseTarget accepts a full SIP URI, or user@host, or (with an account) a bare user or
// number completed with the account's domain.
func parseTarget(target string, acc *account) (sip.Uri, error) {
	t := strings.TrimSpace(target)
	if t == "" {
		return sip.Uri{}, errors.New("dial: empty target")
	}
	if !strings.HasPrefix(t, "sip:") && !strings.HasPrefix(t, "sips:") {
		switch {
		case strings.Contains(t, "@"):
			t = "sip:" + t
		case acc != nil:
			t = "sip:" + t + "@" + acc.aor.Host
		default:
			return sip.Uri{}, fmt.Errorf("dial %q: give a SIP URI (sip:user@host) or use an account", target)
		}
	}
	var u sip.Uri
	if err := sip.ParseUri(t, &u); err != nil {
		return sip.Uri{}, fmt.Errorf("dial %q: %w", target, err)
	}
	if u.Host == "" {
		return sip.Uri{}, fmt.Errorf("dial %q: no host", target)
	}
	return u, nil
}

func (p *Phone) runOutgoing(stk *stack, c *call, target sip.Uri, a CallAudio, opts DialOptions) {
	defer p.removeCall(c)
	ctx := stk.ctx
	op := "call " + target.String()
	l, err := p.legFor(ctx, stk, c.account, target)
	if err != nil {
		p.end(c, 0, reasonOf(err), "local", FailureOf(err), err)
		return
	}
	ms, err := media.Open(p.mediaConfig(l.localIP))
	if err != nil {
		p.end(c, 0, "no RTP port", "local", FailureNetwork, err)
		return
	}
	defer ms.Close()
	ma := p.publicMedia(ctx, stk, c.account, l.localIP, ms)
	c.mu.Lock()
	c.media, c.addr = ms, ma
	c.mu.Unlock()
	local := p.localSDP(ma)
	offer, err := sdp.Offer(local)
	if err != nil {
		p.end(c, 0, "SDP offer", "local", FailureConfig, err)
		return
	}
	req := p.newInvite(c, l, target, offer)
	p.update(c, func(s *CallStatus) { s.SIPCallID = string(*req.CallID()) }) // the "calling" event

	ringCtx, stopRing := context.WithTimeout(ctx, opts.RingTimeout)
	defer stopRing()
	c.mu.Lock()
	c.ringStop = stopRing
	c.mu.Unlock()
	select {
	case <-c.hangupCh: // hung up before we even started
		p.end(c, 0, "cancelled", "local", FailureNoAnswer, nil)
		return
	default:
	}

	ua := &sipgo.DialogUA{Client: l.client, ContactHDR: sip.ContactHeader{Address: l.contact}}
	var sess *sipgo.DialogClientSession
	onResponse := func(res *sip.Response) error {
		switch {
		case res.StatusCode == 180 || (res.StatusCode == 183 && len(res.Body()) == 0):
			p.update(c, func(s *CallStatus) { s.State = CallRinging })
		case res.StatusCode == 183:
			// Early media: play what the far end sends (ringback, announcements), send nothing.
			if n, err := sdp.Accept(local, res.Body()); err == nil {
				if params, err := mediaParams(n, CallAudio{Sink: a.Sink}); err == nil {
					params.Send = false
					ms.Start(params)
					p.update(c, func(s *CallStatus) { s.State = CallEarlyMedia })
				}
			}
		}
		return nil
	}
	var res *sip.Response
	credentialsSent := false
	ti := 0 // which of l.targets the INVITE goes to
	var tried []attempt
	for {
		var a *inviteAttempt
		sess, res, a, err = p.inviteOnce(ringCtx, ua, req, l, len(l.targets), onResponse)
		if a.failsOver(err) && ti+1 < len(l.targets) {
			// No provisional response (or a 503) from this server: RFC 3263 4.3, the next one.
			tried = append(tried, attempt{l.targets[ti], a.asError(op, req.Destination(), l.transport, err)})
			p.log.Info("call: server did not answer; trying the next", "call", c.id, "target", l.targets[ti].String(), "err", err)
			ti++
			next := req.Clone()
			next.RemoveHeader("Via")
			next.CSeq().SeqNo++
			next.SetDestination(l.targets[ti].Addr.String())
			routeVia(next, next.Destination())
			req = next
			continue
		}
		if a.failsOver(err) && len(tried) > 0 {
			tried = append(tried, attempt{l.targets[ti], a.asError(op, req.Destination(), l.transport, err)})
			fe := failoverError(op, tried)
			p.end(c, 0, fe.Reason, "local", fe.Failure, fe)
			return
		}
		var dr *sipgo.ErrDialogResponse
		if errors.As(err, &dr) && (dr.Res.StatusCode == 401 || dr.Res.StatusCode == 407) && !credentialsSent && c.account != nil {
			pw, perr := p.wire(c.account.Name).passwordFor(ctx)
			if perr != nil {
				p.end(c, int(dr.Res.StatusCode), dr.Res.Reason, "remote", FailureConfig, perr)
				return
			}
			next := req.Clone()
			next.RemoveHeader("Via")
			next.CSeq().SeqNo++
			if _, aerr := authorize(next, dr.Res, c.account.AuthUser, pw); aerr != nil {
				p.end(c, int(dr.Res.StatusCode), dr.Res.Reason, "remote", FailureAuth, aerr)
				return
			}
			req, credentialsSent = next, true
			continue
		}
		if a.cause != nil && err != nil {
			err = a.cause // our own giving up on the last target, in words
		}
		break
	}
	if err != nil {
		p.endOutgoingFailure(c, op, err, res, ringCtx, credentialsSent)
		return
	}
	n, err := sdp.Accept(local, res.Body())
	if err != nil {
		// The far end answered with SDP we cannot use: acknowledge, then hang up (RFC 3261 13.2.2.4).
		_ = sess.Ack(ctx)
		_ = sess.Bye(ctx)
		p.end(c, 488, "Not Acceptable Here", "local", FailureDeclined, err)
		return
	}
	params, err := mediaParams(n, a)
	if err != nil {
		_ = sess.Ack(ctx)
		_ = sess.Bye(ctx)
		p.end(c, 488, "Not Acceptable Here", "local", FailureDeclined, err)
		return
	}
	ms.Start(params)
	c.mu.Lock()
	c.remoteSDP = params.Remote
	c.mu.Unlock()
	if err := sess.Ack(ctx); err != nil {
		p.log.Warn("ACK failed", "call", c.id, "err", err)
	}
	p.registerDialog(c, sess.ID)
	now := p.clock.Now()
	c.mu.Lock()
	c.answered, c.ringStop, c.local, c.contact, c.source, c.sink = true, nil, local, l.contact, a.Source, a.Sink
	c.readBye = sess.ReadBye
	c.mu.Unlock()
	p.update(c, func(s *CallStatus) {
		s.State, s.Codec, s.Answered, s.Code, s.Reason = CallAnswered, n.Codec.Name, now, int(res.StatusCode), res.Reason
	})
	p.talk(ctx, c, ms, sess)
}

// endOutgoingFailure reports a call that never got answered.
func (p *Phone) endOutgoingFailure(c *call, op string, err error, res *sip.Response, ringCtx context.Context, credentialsSent bool) {
	var dr *sipgo.ErrDialogResponse
	switch {
	case errors.As(err, &dr):
		code := int(dr.Res.StatusCode)
		f := failureForCall(code)
		if code == 403 && !credentialsSent {
			f = FailureDeclined
		}
		p.end(c, code, dr.Res.Reason, "remote", f, nil)
	case ringCtx.Err() != nil:
		select {
		case <-c.hangupCh:
			p.end(c, 487, "cancelled", "local", FailureNoAnswer, nil)
		default:
			if errors.Is(ringCtx.Err(), context.DeadlineExceeded) {
				p.end(c, 487, "ring timeout", "local", FailureNoAnswer, nil)
			} else {
				p.end(c, 487, "cancelled", "local", FailureNoAnswer, nil)
			}
		}
	default:
		e := transportError(op, "", UDP, err)
		p.end(c, 0, e.Reason, "local", FailureNetwork, err)
	}
}

func reasonOf(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return err.Error()
}

// newInvite builds the initial INVITE of a call.
func (p *Phone) newInvite(c *call, l *leg, target sip.Uri, offer []byte) *sip.Request {
	req := p.newOutOfDialogRequest(l, sip.INVITE, target)
	req.AppendHeader(&sip.ContactHeader{Address: l.contact})
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE"))
	ct := sip.ContentTypeHeader("application/sdp")
	req.AppendHeader(&ct)
	req.SetBody(offer)
	return req
}

// newOutOfDialogRequest builds a request that starts something (INVITE, MESSAGE) on leg l:
// first hop, Route, From with a fresh tag, To, Call-ID, CSeq 1, Max-Forwards, User-Agent.
func (p *Phone) newOutOfDialogRequest(l *leg, method sip.RequestMethod, target sip.Uri) *sip.Request {
	req := sip.NewRequest(method, target)
	req.SetTransport(strings.ToUpper(l.transport.String()))
	req.SetDestination(l.dest)
	if l.route != nil {
		route := &sip.RouteHeader{Address: *l.route.Clone()}
		route.Address.User = ""
		route.Address.UriParams = sip.NewParams()
		route.Address.UriParams.Add("lr", "")
		if l.transport != UDP && route.Address.Scheme != "sips" {
			route.Address.UriParams.Add("transport", l.transport.String())
		}
		req.AppendHeader(route)
		routeVia(req, l.dest)
	}
	from := &sip.FromHeader{DisplayName: l.display, Address: l.from, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: target.Scheme, User: target.User, Host: target.Host, Port: target.Port}})
	callID := sip.CallIDHeader(sip.GenerateTagN(24))
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: method})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	req.AppendHeader(sip.NewHeader("User-Agent", p.userAgent()))
	return req
}

// mediaParams turns a negotiation into media parameters.
func mediaParams(n sdp.Negotiated, a CallAudio) (media.Params, error) {
	cd, ok := codecByName(n.Codec.Name)
	if !ok {
		return media.Params{}, fmt.Errorf("negotiated codec %s is not supported", n.Codec.Name)
	}
	ip, err := netip.ParseAddr(n.RemoteAddr)
	if err != nil {
		return media.Params{}, fmt.Errorf("remote media address %q: %w", n.RemoteAddr, err)
	}
	dir := n.LocalDir
	var rtcp netip.AddrPort
	if n.RemoteRTCPPort > 0 {
		rtcp = netip.AddrPortFrom(ip.Unmap(), uint16(n.RemoteRTCPPort))
	}
	return media.Params{
		Remote:     netip.AddrPortFrom(ip.Unmap(), uint16(n.RemotePort)),
		RemoteRTCP: rtcp,
		Codec:      cd,
		DTMFPT:     n.DTMFPT,
		Send:       dir == sdp.SendRecv || dir == sdp.SendOnly,
		Receive:    dir == sdp.SendRecv || dir == sdp.RecvOnly,
		Source:     a.Source,
		Sink:       a.Sink,
	}, nil
}
