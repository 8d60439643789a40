package phone

import (
	"errors"
	"strings"
	"time"

	lifecycle "github.com/dialtone/dialtone/phone/call"
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
	growStack() // once, now, not twice on the way to the 200 (growstack.go)
	// RFC 3891: an INVITE that replaces one of our calls is answered at once with its audio
	// (replaces.go); one that names no call of ours, or a bad one, is refused here.
	old, refused := p.takeOverByReplaces(req, tx)
	if refused {
		return
	}
	if old != nil {
		defer old.releasePickup() // a ringing call this INVITE took (pickup.go)
	}
	respond := p.responder(req, tx)
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
	c.request = mergeKey(req)
	if err := p.addCall(c, old); errors.Is(err, errMerged) {
		respond(482, "Loop Detected") // this INVITE rings here already (a forking proxy's second path)
		return
	} else if err != nil {
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
	otx := newAfterOK(tx) // the answer's media and event follow the 200 (step)
	sess, err := ua.ReadInvite(req, otx)
	if err != nil {
		refuse(400, "Bad Request", FailureDeclined, err)
		return
	}
	readAck, readBye, ack := sess.ReadAck, sess.ReadBye, (*firstAck)(nil)
	if offer == nil { // our 200 offers, their ACK answers (incoming_delayed.go)
		ack = newFirstAck(req.CSeq().SeqNo)
		readAck, readBye = ack.keep(readAck), ack.after(readBye)
	}
	c.mu.Lock()
	// Before the dialog is findable (onBye, onAck); after the dialog has our 200 (afterSent).
	c.readBye, c.readAck = otx.afterSent(readBye), otx.afterSent(readAck)
	c.mu.Unlock()
	p.registerDialog(c, sess.ID)
	p.trackDialog(c, sess) // for transfer (transfer_dialog.go); REFER waits for the answer
	contact := &sip.ContactHeader{Address: l.contact}
	x := &incomingRun{p: p, c: c, stk: stk, sess: sess, l: l, acc: acc, contact: contact, otx: otx,
		offer: offer, policy: mp, ack: ack, incomingDue: incomingDue}
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
		in = p.waitAnswer(c, sess, stk, ringRefresh, x.ringAgain)
	}
	for in != nil {
		in = x.step(in)
	}
	if c.ended() {
		return
	}
	p.talk(stk.ctx, c, x.ms, sess)
}

// ringRefresh is how often a ringing call sends its 180 again: RFC 3261 §13.3.1.1 has a UAS
// that takes its time send a provisional response at least every minute, so that a lost one
// is made good before a proxy's Timer C (over 3 min) or one that restarts its INVITE timer on
// each response (Kamailio's fr_inv_timer, 120 s by default) cancels a call still ringing.
const ringRefresh = time.Minute

// waitAnswer waits while the call rings for what the user or the caller does about it. After
// first, and every ringRefresh after that, onRing sends 180 Ringing (false: the caller is gone).
func (p *Phone) waitAnswer(c *call, sess *sipgo.DialogServerSession, stk *stack, first time.Duration, onRing func() bool) lifecycle.Input {
	for wait := first; ; wait = ringRefresh {
		t := p.clock.NewTimer(wait)
		in := p.waitAnswerOnce(c, sess, stk, t.C())
		t.Stop()
		if in != nil {
			return in
		}
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
	return byDialog(p.dialogs, req)
}

// byDialog finds what m files under the dialog of req, an in-dialog request, whichever side
// created the dialog (its id as the UAS sees it, then as the UAC does), or nil.
func byDialog[V any](m map[string]*V, req *sip.Request) *V {
	for _, id := range []func(*sip.Request) (string, error){sip.DialogIDFromRequestUAS, sip.DialogIDFromRequestUAC} {
		if k, err := id(req); err == nil {
			if v, ok := m[k]; ok {
				return v
			}
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
		_ = readAck(req, tx) // a re-INVITE's ACK has another CSeq: nothing to do here
	}
	c.noteAck(req) // our 200 to a re-INVITE: no longer retransmitted, its answer taken (reinvite_ok.go)
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
