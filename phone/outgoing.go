package phone

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	lifecycle "github.com/dialtone/dialtone/phone/call"
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
	if p.addCall(c, nil) != nil {
		return "", fmt.Errorf("dial: already %d calls in progress, or the phone is stopping", p.maxCalls())
	}
	go p.runOutgoing(stk, c, uri, a, opts) // owned through callWG: Run waits for it
	return c.id, nil
}

// parseTarget accepts a full SIP URI, or user@host, or (with an account) a bare user or
// number completed with the account's domain, which is also what a tel: URI (RFC 3966, as an
// address book holds numbers) becomes: tel:+1-555-0100 is sip:+15550100@domain.
func parseTarget(target string, acc *account) (sip.Uri, error) {
	t := strings.TrimSpace(target)
	if t == "" {
		return sip.Uri{}, errors.New("dial: empty target")
	}
	if len(t) >= 4 && strings.EqualFold(t[:4], "tel:") {
		number, _, _ := strings.Cut(t[4:], ";") // parameters (phone-context, ext) are not dialled
		number = strings.Map(func(r rune) rune {
			if strings.ContainsRune("-.() ", r) { // RFC 3966 visual separators
				return -1
			}
			return r
		}, number)
		if number == "" || strings.ContainsAny(number, "@:") {
			return sip.Uri{}, fmt.Errorf("dial %q: not a telephone number", target)
		}
		if acc == nil {
			return sip.Uri{}, fmt.Errorf("dial %q: a telephone number needs an account to call it through", target)
		}
		t = number
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
	if !validHost(u.Host) {
		return sip.Uri{}, fmt.Errorf("dial %q: %q is not a host name or IP address", target, u.Host)
	}
	if strings.ContainsFunc(u.User, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return sip.Uri{}, fmt.Errorf("dial %q: the user part %q has a space or control character (escape it as %%20)", target, u.User)
	}
	return u, nil
}

func (p *Phone) runOutgoing(stk *stack, c *call, target sip.Uri, a CallAudio, opts DialOptions) {
	defer p.removeCall(c)
	ctx := stk.ctx
	x := &outgoingRun{p: p, c: c, ctx: ctx, stopRing: func() {}}
	c.mu.Lock()
	c.source, c.sink = a.Source, a.Sink // the call's audio, for a call that picks it up (pickup.go)
	c.mu.Unlock()
	// Set-up (DNS, an OPTIONS probe, STUN, TURN: seconds when a server is slow) stops when
	// the user hangs up: c.hangup calls ringStop, which is this until the INVITE's own.
	setupCtx, stopSetup := context.WithCancel(ctx)
	defer stopSetup()
	c.mu.Lock()
	c.ringStop = stopSetup
	c.mu.Unlock()
	hungUp := func() bool { // and if so, the machine hears of it
		if !c.hungUp() {
			return false
		}
		x.step(lifecycle.Hangup{})
		return true
	}
	fail := func(reason string, f Failure, err error) {
		if hungUp() { // the error is the set-up's cancellation: the user's hang-up says why
			return
		}
		x.err = err
		x.step(lifecycle.Failed{Reason: reason, Failure: lifecycle.Failure(f)})
	}
	if hungUp() { // before ringStop was set: nothing cancelled the set-up
		return
	}
	l, err := p.legFor(setupCtx, stk, c.account, target)
	if err != nil {
		fail(reasonOf(err), FailureOf(err), err)
		return
	}
	ms, err := media.Open(p.mediaConfig(l.localIP))
	if err != nil {
		fail("no RTP port", FailureNetwork, err)
		return
	}
	defer ms.Close()
	x.ms = ms
	ma := p.publicMedia(setupCtx, stk, c.account, l.localIP, ms)
	if hungUp() {
		return
	}
	c.mu.Lock()
	c.media, c.addr = ms, ma
	c.mu.Unlock()
	mp, err := p.policyFor(c.account, l.transport == TLS, true)
	if err != nil {
		fail("media settings", FailureConfig, err)
		return
	}
	local := p.localSDP(ma, mp)
	offer, err := sdp.Offer(local)
	if err != nil {
		fail("SDP offer", FailureConfig, err)
		return
	}
	c.mu.Lock()
	c.machine.SRTPRequired = local.Encryption == sdp.EncryptionSDESRequired
	c.mu.Unlock()
	if local.Encryption == sdp.EncryptionSDES {
		secure := local
		secure.Encryption = sdp.EncryptionSDESRequired
		x.secureOffer, _ = sdp.Offer(secure) // same keys; without it a 488 just ends the call
	}
	req := p.newInvite(c, l, target, offer)
	uriHeadersToRequest(req) // a transfer's Replaces (replaces.go)
	c.noteInvite(req)        // its early dialogs may be picked up (pickup.go)
	c.mu.Lock()
	c.status.SIPCallID = string(*req.CallID())
	c.mu.Unlock()

	// Hangup (c.hangup) cancels ringCtx from the user's goroutine: that is what interrupts
	// sipgo's WaitAnswer and makes it send the CANCEL; the machine then learns of it here.
	ringCtx, stopRing := context.WithTimeout(ctx, opts.RingTimeout)
	defer stopRing()
	x.stopRing = stopRing
	c.mu.Lock()
	c.ringStop = stopRing
	c.mu.Unlock()
	if hungUp() { // before we even started
		return
	}
	x.step(lifecycle.Dial{}) // the "calling" event; the INVITE goes out below

	onResponse := func(res *sip.Response) error {
		if res.StatusCode >= 200 {
			return nil // sipgo shows us the final response too; it comes back from the INVITE below
		}
		c.noteEarly(res)
		body := sdpOf(res)
		in := lifecycle.Response{Code: int(res.StatusCode), Reason: res.Reason, HasSDP: len(body) > 0}
		if res.StatusCode >= 180 && in.HasSDP && !c.hungUp() { // 183, or 180 with SDP
			// Early media: play what the far end sends (ringback, announcements), send nothing;
			// not once the call is hung up (or picked up: its audio is another call's now).
			if n, err := sdp.Accept(local, body); err == nil {
				if params, err := mediaParams(n, CallAudio{Sink: a.Sink}); err == nil {
					params.Send = false
					x.early, in.SDPOK = params, true
				}
			}
		}
		x.step(in)
		return nil
	}
	sess, res, l, err := p.inviteWithFailover(ringCtx, stk, c, req, l, "call "+target.String(), x, onResponse)
	if x.resolved {
		return // the machine has ended the call (every target failed, or credentials could not be sent)
	}
	if err != nil {
		if sess != nil && res != nil && res.IsSuccess() {
			// The callee answered as we cancelled (a hang-up, the ring timeout or a pickup
			// after it rang): sipgo read its 200 while awaiting the 487, and left it there.
			// Acknowledged and ended, or the callee sat "connected" to nobody until its own
			// timeout (RFC 3261 15: a BYE for a 2xx that crossed our CANCEL).
			p.hangUpLateAnswer(sess, res)
		}
		in := outgoingFailure("call "+target.String(), l, err, ringCtx, c)
		if _, ok := in.(lifecycle.Failed); ok {
			x.err = err // a transport failure: its details go with the event
		}
		x.step(in)
		return
	}
	x.sess = sess
	body := sdpOf(res) // a SIP-I carrier's answer is a multipart body's part
	in := lifecycle.Response{Code: int(res.StatusCode), Reason: res.Reason, HasSDP: len(body) > 0}
	n, params, err := acceptAnswer(local, body, a)
	x.params = params
	if err != nil {
		x.err = err // an answer we cannot use: the machine acknowledges it, then hangs up
		in.Why, in.Insecure = insecureRefusal(err)
	} else {
		in.SDPOK = true
		// Our re-INVITEs repeat what this answer settled.
		local.Encryption, local.KeysRequired = sessionEncryption(n, c.machine.SRTPRequired)
		c.mu.Lock()
		c.remoteSDP, c.params = x.params.Remote, x.params
		c.answered, c.ringStop, c.local, c.contact, c.source, c.sink = true, nil, local, l.contact, a.Source, a.Sink
		c.readBye = sess.ReadBye // before the dialog is findable: a BYE may follow at once (onBye)
		c.mu.Unlock()
		p.registerDialog(c, sess.ID)
		p.trackDialog(c, sess) // for transfer (transfer_dialog.go)
		now := p.clock.Now()
		x.answered = func(s *CallStatus) {
			setAnswered(s, n)
			s.Answered, s.Code, s.Reason = now, int(res.StatusCode), res.Reason
		}
	}
	x.step(in)
	if c.ended() {
		return
	}
	p.talk(ctx, c, ms, sess)
}

// outgoingRun carries out the state machine's effects for an outgoing call until it is
// answered or over.
type outgoingRun struct {
	p        *Phone
	c        *call
	ctx      context.Context
	ms       *media.Session
	sess     *sipgo.DialogClientSession
	stopRing context.CancelFunc
	early    media.Params      // what StartMedia{Early} plays
	params   media.Params      // what StartMedia starts once answered
	answered func(*CallStatus) // what the answered event says besides the state
	err      error             // the error behind an End, for the event and the history
	resend   bool              // ResendWithAuth: the INVITE loop answers the challenge
	// secureOffer is our offer again in the RTP/SAVP form, for a best-effort SDES call
	// (RTP/AVP with keys) that a peer requiring SRTP refuses with 488 (outgoing_invite.go).
	secureOffer []byte
	resolved    bool // the machine ended the call inside the INVITE loop
}

func (x *outgoingRun) step(in lifecycle.Input) {
	for _, e := range x.c.advance(in) {
		switch e := e.(type) {
		case lifecycle.SendInvite: // the INVITE loop sends it
		case lifecycle.ResendWithAuth:
			x.resend = true
		case lifecycle.SendCancel:
			x.stopRing()
		case lifecycle.SendAck:
			if err := x.sess.Ack(x.ctx); err != nil {
				x.p.log.Warn("ACK failed", "call", x.c.id, "err", err)
			}
		case lifecycle.SendBye:
			x.p.sendBye(x.c, x.sess, byeTimeout) // bounded: a far end that went away must not hold the call
		case lifecycle.StartMedia:
			if e.Early {
				x.c.startEarly(x.ms, x.early) // not once picked up (pickup.go)
			} else {
				x.ms.Start(x.params)
			}
		case lifecycle.StopEarlyMedia:
			// Nothing played or answered from the redirecting target's address any more; the
			// next target's 183 or 200 starts the session afresh.
			quiet := x.early
			quiet.Send, quiet.Receive = false, false
			x.ms.Update(quiet)
		case lifecycle.Publish:
			var more func(*CallStatus)
			if e.State == lifecycle.Answered {
				more = x.answered
			}
			x.p.publishState(x.c, e.State, more)
		case lifecycle.End:
			x.p.endAs(x.c, e.Outcome, x.err)
		}
	}
}

// outgoingFailure is the input for an INVITE that ended without a 2xx.
func outgoingFailure(op string, l *leg, err error, ringCtx context.Context, c *call) lifecycle.Input {
	var dr *sipgo.ErrDialogResponse
	switch {
	case errors.As(err, &dr):
		return lifecycle.Response{Code: int(dr.Res.StatusCode), Reason: dr.Res.Reason}
	case errors.Is(err, errNoResponse): // the ring timeout came and the server had said nothing
		return lifecycle.Failed{Reason: transportError(op, l.dest, l.transport, err).Reason}
	case ringCtx.Err() != nil:
		select {
		case <-c.hangupCh:
			return lifecycle.Hangup{}
		default:
		}
		if errors.Is(ringCtx.Err(), context.DeadlineExceeded) {
			return lifecycle.RingTimeout{}
		}
		return lifecycle.Shutdown{}
	}
	return lifecycle.Failed{Reason: transportError(op, l.dest, l.transport, err).Reason}
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
	req.AppendHeader(sip.NewHeader("Allow", allowMethods))
	req.AppendHeader(sip.NewHeader("Supported", supportedExtensions))
	ct := sip.ContentTypeHeader("application/sdp")
	req.AppendHeader(&ct)
	req.SetBody(offer)
	return req
}

// addRoute names l's first hop in req's Route (loose routing), when l has one.
func addRoute(req *sip.Request, l *leg) {
	if l.route == nil {
		return
	}
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

// newOutOfDialogRequest builds a request that starts something (INVITE, MESSAGE) on leg l:
// first hop, Route, From with a fresh tag, To, Call-ID, CSeq 1, Max-Forwards, User-Agent.
func (p *Phone) newOutOfDialogRequest(l *leg, method sip.RequestMethod, target sip.Uri) *sip.Request {
	req := sip.NewRequest(method, target)
	req.SetTransport(strings.ToUpper(l.transport.String()))
	req.SetDestination(l.dest)
	addRoute(req, l)
	from := &sip.FromHeader{DisplayName: quoteDisplay(l.display), Address: l.from, Params: sip.NewParams()}
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
