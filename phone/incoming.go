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

// onInvite handles every INVITE: a new call, or a re-INVITE in an existing dialog. sipgo runs
// each request in its own goroutine; for a new call this goroutine becomes the call's owner
// and returns when the call ends.
func (p *Phone) onInvite(stk *stack, req *sip.Request, tx sip.ServerTransaction) {
	if req.CallID() == nil { // sipgo lets it through (its transactions need only Via and CSeq): it crashed us
		_ = tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request (no Call-ID)", nil))
		return
	}
	if to := req.To(); to != nil && to.Params.Has("tag") {
		p.onReinvite(req, tx)
		return
	}
	// RFC 3891: an INVITE that replaces one of our calls is answered at once with its audio
	// (replaces.go); one that names no call of ours, or a bad one, is refused here.
	old, refused := p.takeOverByReplaces(req, tx)
	if refused {
		return
	}
	respond := func(code int, reason string) {
		if err := tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil)); err != nil {
			p.log.Debug("respond to INVITE", "code", code, "err", err)
		}
	}
	acc := p.accountFor(req)
	c := newCall(p.newCallID(), acc, Incoming)
	from := req.From()
	c.status = CallStatus{ID: c.id, Account: c.accountName(), Direction: Incoming, State: CallIncoming,
		SIPCallID: string(*req.CallID()), Started: p.clock.Now()}
	if from != nil {
		c.status.Peer, c.status.PeerName = from.Address.String(), unquoteDisplay(from.DisplayName)
	}
	if old == nil && p.refuseDND(c, req, tx) { // a replacing call takes over one we are in
		return
	}
	// Check the offer before ringing (incoming_offer.go). Parsed once: prepare answers it.
	offer, mp, err := p.checkOffer(req, acc)
	if err != nil {
		p.refuseOffer(c, req, tx, err)
		return
	}
	if !p.addCall(c, old) {
		respond(486, "Busy Here")
		return
	}
	defer p.removeCall(c)
	// The phone answers itself (autoanswer.go): "incoming" waits until the 200 is out, so
	// the front end's work on it does not compete with the answer.
	incomingDue := p.cfg.AutoAnswer && p.cfg.AutoAnswerAudio != nil && old == nil
	if p.cfg.AutoAnswer && !incomingDue && old == nil {
		// The "incoming" event at once: the front end answers while the dialog and the
		// media are made ready (~100 µs of INVITE → 200 OK, incoming_fast.go).
		p.update(c, func(*CallStatus) {})
	}
	target := sip.Uri{Scheme: "sip", Host: "127.0.0.1"}
	if from != nil {
		target = from.Address
	}
	if cont := req.Contact(); cont != nil {
		target = cont.Address
	}
	// Before the dialog exists, the machine's responses go out on the transaction itself.
	refuse := func(code int, reason string, f Failure, err error) {
		if incomingDue {
			p.update(c, func(*CallStatus) {}) // "incoming" before "ended", as without the hook
		}
		for _, e := range c.advance(lifecycle.Refuse{Code: code, Reason: reason, Failure: lifecycle.Failure(f)}) {
			switch e := e.(type) {
			case lifecycle.Respond:
				respond(e.Code, e.Reason)
			case lifecycle.End:
				p.endAs(c, e.Outcome, err)
			}
		}
	}
	l, err := p.legFor(stk.ctx, stk, acc, target)
	if err != nil {
		refuse(500, "Server Internal Error", FailureOf(err), err)
		return
	}
	ua := &sipgo.DialogUA{Client: l.client, ContactHDR: sip.ContactHeader{Address: l.contact}}
	otx := &afterOK{ServerTransaction: tx} // the answer's media and event follow the 200 (step)
	sess, err := ua.ReadInvite(req, otx)
	if err != nil {
		refuse(400, "Bad Request", FailureDeclined, err)
		return
	}
	c.mu.Lock()
	c.readBye, c.readAck = sess.ReadBye, sess.ReadAck // before the dialog is findable (onBye, onAck)
	c.mu.Unlock()
	p.registerDialog(c, sess.ID)
	p.trackDialog(c, sess) // for transfer (transfer_dialog.go); REFER waits for the answer
	contact := &sip.ContactHeader{Address: l.contact}
	x := &incomingRun{p: p, c: c, stk: stk, sess: sess, l: l, acc: acc, contact: contact, otx: otx,
		offer: offer, policy: mp, incomingDue: incomingDue}
	defer x.close()
	x.openMediaEarly()
	var in lifecycle.Input
	switch {
	case old != nil:
		in = x.answerReplacing(old) // no "incoming": the front end never sees it ring (replaces.go)
	case p.cfg.AutoAnswer:
		in = x.waitAnswerRinging() // 180 only if the answer is slow (incoming_fast.go)
	default:
		if x.err = sess.Respond(180, "Ringing", nil, contact); x.err != nil {
			in = lifecycle.RemoteCancel{} // the caller is gone already
			break
		}
		p.update(c, func(*CallStatus) {}) // the "incoming" event
		in = p.waitAnswer(c, sess, stk, nil, nil)
	}
	for in != nil {
		in = x.step(in)
	}
	if c.ended() {
		return
	}
	p.talk(stk.ctx, c, x.ms, sess)
}

// waitAnswer waits while the call rings for what the user or the caller does about it. When
// ring fires, onRing sends 180 Ringing (false: the caller is gone).
func (p *Phone) waitAnswer(c *call, sess *sipgo.DialogServerSession, stk *stack, ring <-chan time.Time, onRing func() bool) lifecycle.Input {
	for {
		if in := p.waitAnswerOnce(c, sess, stk, ring); in != nil {
			return in
		}
		ring = nil
		if !onRing() {
			return lifecycle.RemoteCancel{}
		}
	}
}

// waitAnswerOnce is waitAnswer until ring fires (nil).
func (p *Phone) waitAnswerOnce(c *call, sess *sipgo.DialogServerSession, stk *stack, ring <-chan time.Time) lifecycle.Input {
	select {
	case <-ring:
		return nil
	case a := <-c.answerCh:
		c.mu.Lock()
		c.source, c.sink = a.Source, a.Sink
		c.mu.Unlock()
		return lifecycle.Answer{}
	case code := <-c.rejectCh:
		return lifecycle.Reject{Code: code, Reason: reasonPhrase(code)}
	case <-c.hangupCh:
		return lifecycle.Hangup{}
	case <-sess.Context().Done(): // CANCEL from the caller, or the transaction died
		return lifecycle.RemoteCancel{}
	case <-stk.ctx.Done():
		return lifecycle.Shutdown{}
	}
}

// incomingRun carries out the state machine's effects for an incoming call until it is
// answered or over.
type incomingRun struct {
	p          *Phone
	c          *call
	stk        *stack
	sess       *sipgo.DialogServerSession
	l          *leg
	acc        *account
	contact    *sip.ContactHeader
	ms         *media.Session
	answer     []byte           // our SDP answer, once prepared
	params     media.Params     // the media it describes
	negotiated sdp.Negotiated   // what the answer settled, for the answered event
	offer      *sdp.ParsedOffer // the INVITE's SDP offer, checked before the call rang
	policy     mediaPolicy      // codecs, SRTP policy and keys the offer was checked against
	err        error            // the error behind an End, for the event and the history
	opened     chan openedMedia // the media session opened while ringing, until prepare takes it
	otx        *afterOK         // the INVITE's transaction: runs the answer's effects once the 200 is out
	// incomingDue: the "incoming" event is still to publish, before any other (autoanswer.go).
	incomingDue bool
}

// carryOut carries out effects; one that learns something returns the next input.
func (x *incomingRun) carryOut(effects []lifecycle.Effect) lifecycle.Input {
	var next lifecycle.Input
	for _, e := range effects {
		switch e := e.(type) {
		case lifecycle.PrepareAnswer:
			x.err = x.prepare()
			next = lifecycle.AnswerReady{OK: x.err == nil}
		case lifecycle.StartMedia:
			x.ms.Start(x.params)
		case lifecycle.Respond:
			if e.Code == 200 {
				next = x.respondOK()
				continue
			}
			if err := x.sess.Respond(e.Code, e.Reason, nil, x.contact); err != nil {
				x.p.log.Debug("respond to INVITE", "call", x.c.id, "code", e.Code, "err", err)
			}
		case lifecycle.Publish:
			x.publishIncoming()
			now := x.p.clock.Now()
			x.p.publishState(x.c, e.State, func(s *CallStatus) {
				if e.State == lifecycle.Answered {
					setAnswered(s, x.negotiated)
					s.Answered, s.Code, s.Reason = now, 200, "OK"
				}
			})
		case lifecycle.SendBye:
			x.p.sendBye(x.c, x.sess, byeTimeout) // bounded: a far end that went away must not hold the call
		case lifecycle.End:
			x.publishIncoming()
			x.p.endAs(x.c, e.Outcome, x.err)
		}
	}
	return next
}

// prepare opens the media, finds our public address and negotiates the SDP answer.
func (x *incomingRun) prepare() error {
	var r openedMedia
	if x.opened != nil {
		r = <-x.opened
		x.opened = nil
	} else {
		r.ms, r.err = media.Open(x.p.mediaConfig(x.l.localIP))
	}
	if r.err != nil {
		return fmt.Errorf("no RTP port: %w", r.err)
	}
	ms := r.ms
	x.ms = ms
	ma := x.p.publicMedia(x.stk.ctx, x.stk, x.acc, x.l.localIP, ms)
	local := x.p.localSDP(ma, x.policy)
	answer, n, err := x.offer.Answer(local)
	if err != nil {
		return err
	}
	local.Encryption = sessionEncryption(n) // our re-INVITEs repeat what this answer settled
	c := x.c
	c.mu.Lock()
	a := CallAudio{Source: c.source, Sink: c.sink}
	c.mu.Unlock()
	params, err := mediaParams(n, a)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.addr, c.media, c.local, c.contact, c.answered = ma, ms, local, x.l.contact, true
	c.remoteSDP, c.params = params.Remote, params
	c.mu.Unlock()
	x.answer, x.params, x.negotiated = answer, params, n
	return nil
}

// respondOK sends our 200 with the SDP answer and waits for the ACK (sipgo retransmits the
// 200 meanwhile, RFC 3261 13.3.1.4).
func (x *incomingRun) respondOK() lifecycle.Input {
	res := sip.NewSDPResponseFromRequest(x.sess.InviteRequest, x.answer)
	res.AppendHeader(x.contact)
	res.AppendHeader(sip.NewHeader("User-Agent", x.p.userAgent()))
	res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	res.AppendHeader(sip.NewHeader("Supported", "replaces"))
	err := x.sess.WriteResponse(res)
	switch {
	case err == nil:
		return nil
	case x.sess.LoadState() == sip.DialogStateEnded,
		// The ACK came after the BYE that overtook it: sipgo's ReadAck then marks the
		// ended dialog confirmed again, and only the cancelled context tells.
		x.sess.LoadState() == sip.DialogStateConfirmed && x.sess.Context().Err() != nil:
		// The caller's BYE overtook its ACK (sipgo reads them in separate goroutines; a
		// caller that hangs up at once, as sipp under load does): the call was answered and
		// talk sees the BYE at once. Reporting it as cancelled put a 487 in the history.
		// Checked first: the BYE terminates the INVITE transaction, so err is then
		// ErrTransactionCanceled too, while a CANCEL never marks the dialog ended.
		return nil
	case errors.Is(err, sip.ErrTransactionCanceled) || errors.Is(context.Cause(x.sess.Context()), sip.ErrTransactionCanceled):
		return lifecycle.AnswerTooLate{} // CANCEL beat our 200
	case x.sess.Context().Err() != nil:
		return lifecycle.AnswerTooLate{}
	}
	x.p.log.Warn("no ACK for our 200 OK", "call", x.c.id, "err", err)
	x.err = err
	return lifecycle.AckTimeout{}
}

func (x *incomingRun) close() {
	if x.opened != nil { // never answered: the early media session was not used
		if r := <-x.opened; r.ms != nil {
			r.ms.Close()
		}
	}
	if x.ms != nil {
		x.ms.Close()
	}
}

// openedMedia is the result of media.Open run early.
type openedMedia struct {
	ms  *media.Session
	err error
}

// openMediaEarly binds the RTP sockets and sizes the jitter buffer while the call rings, so
// the answer does not wait for it: it was the largest part of INVITE → 200 OK (about 300 µs
// of 1.1 ms on loopback, BenchmarkAnswerTurnaround). prepare or close takes the result, so
// the goroutine never outlives the call.
func (x *incomingRun) openMediaEarly() {
	ch := make(chan openedMedia, 1)
	x.opened = ch
	cfg := x.p.mediaConfig(x.l.localIP)
	if x.p.cfg.AutoAnswer {
		if ms := x.stk.spare.take(x.l.localIP); ms != nil {
			ch <- openedMedia{ms: ms}
			return
		}
	}
	go func() {
		ms, err := media.Open(cfg)
		ch <- openedMedia{ms, err}
	}()
}

// accountFor picks the account an incoming request is for: the one whose AOR user matches
// the Request-URI user (registrars put the AOR or our Contact user there), else the first.
func (p *Phone) accountFor(req *sip.Request) *account {
	accounts := p.accountList()
	for _, a := range accounts {
		if strings.EqualFold(a.aor.User, req.Recipient.User) {
			return a
		}
	}
	if to := req.To(); to != nil {
		for _, a := range accounts {
			if strings.EqualFold(a.aor.User, to.Address.User) {
				return a
			}
		}
	}
	if len(accounts) > 0 {
		return accounts[0]
	}
	return nil
}

// onReinvite answers an in-dialog INVITE: a new offer from the far end (hold, resume, a new
// address, a codec change), which the call's state machine answers (hold_sip.go).
func (p *Phone) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	p.inDialogOffer(req, tx)
}

// callForRequest finds the call an in-dialog request belongs to, whichever side created it.
func (p *Phone) callForRequest(req *sip.Request) *call {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id, err := sip.DialogIDFromRequestUAS(req); err == nil {
		if c, ok := p.dialogs[id]; ok {
			return c
		}
	}
	if id, err := sip.DialogIDFromRequestUAC(req); err == nil {
		if c, ok := p.dialogs[id]; ok {
			return c
		}
	}
	return nil
}

func (p *Phone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := p.callForRequest(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	if p.refuseOutOfOrder(c, req, tx) {
		return // a replayed BYE must not end the call
	}
	c.mu.Lock()
	readBye := c.readBye
	c.mu.Unlock()
	if readBye == nil { // the dialog is being set up (never expected: readBye is set first)
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	if err := readBye(req, tx); err != nil {
		p.log.Debug("BYE", "call", c.id, "err", err)
	}
}

func (p *Phone) onAck(req *sip.Request, tx sip.ServerTransaction) {
	c := p.callForRequest(req)
	if c == nil {
		return // an ACK for a non-2xx final response is absorbed by the transaction layer
	}
	c.mu.Lock()
	readAck := c.readAck
	c.mu.Unlock()
	if readAck != nil {
		_ = readAck(req, tx) // a re-INVITE's ACK has another CSeq: nothing to do
	}
}

func reasonPhrase(code int) string {
	switch code {
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 600:
		return "Busy Everywhere"
	case 603:
		return "Decline"
	case 404:
		return "Not Found"
	}
	return "Declined"
}
