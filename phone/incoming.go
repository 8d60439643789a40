package phone

import (
	"errors"
	"strings"

	"github.com/dialtone/dialtone/phone/media"
	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// onInvite handles every INVITE: a new call, or a re-INVITE in an existing dialog. sipgo runs
// each request in its own goroutine; for a new call this goroutine becomes the call's owner
// and returns when the call ends.
func (p *Phone) onInvite(stk *stack, req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		p.onReinvite(req, tx)
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
		c.status.Peer, c.status.PeerName = from.Address.String(), from.DisplayName
	}
	// Check the offer before ringing: a call we cannot take should not ring.
	if _, _, err := sdp.Answer(req.Body(), sdp.Local{Addr: "127.0.0.1", Port: 9, Codecs: supportedCodecs(), DTMF: true}); err != nil {
		code, reason := 488, "Not Acceptable Here"
		if len(req.Body()) == 0 {
			reason = "Not Acceptable Here (no SDP offer)"
		}
		p.log.Info("incoming call refused", "from", c.status.Peer, "err", err)
		respond(code, reason)
		return
	}
	if !p.addCall(c) {
		respond(486, "Busy Here")
		return
	}
	defer p.removeCall(c)
	target := sip.Uri{Scheme: "sip", Host: "127.0.0.1"}
	if from != nil {
		target = from.Address
	}
	if cont := req.Contact(); cont != nil {
		target = cont.Address
	}
	l, err := p.legFor(stk.ctx, stk, acc, target)
	if err != nil {
		respond(500, "Server Internal Error")
		p.end(c, 500, reasonOf(err), "local", FailureOf(err), err)
		return
	}
	ua := &sipgo.DialogUA{Client: l.client, ContactHDR: sip.ContactHeader{Address: l.contact}}
	sess, err := ua.ReadInvite(req, tx)
	if err != nil {
		respond(400, "Bad Request")
		p.end(c, 400, err.Error(), "local", FailureDeclined, err)
		return
	}
	p.registerDialog(c, sess.ID)
	c.mu.Lock()
	c.readBye, c.readAck = sess.ReadBye, sess.ReadAck
	c.mu.Unlock()
	contact := &sip.ContactHeader{Address: l.contact}
	if err := sess.Respond(180, "Ringing", nil, contact); err != nil {
		p.end(c, 0, "cancelled before ringing", "remote", FailureNoAnswer, err)
		return
	}
	p.update(c, func(*CallStatus) {}) // the "incoming" event

	var a CallAudio
	select {
	case a = <-c.answerCh:
	case code := <-c.rejectCh:
		_ = sess.Respond(code, reasonPhrase(code), nil, contact)
		p.end(c, code, reasonPhrase(code), "local", NoFailure, nil)
		return
	case <-c.hangupCh:
		_ = sess.Respond(486, "Busy Here", nil, contact)
		p.end(c, 486, "Busy Here", "local", NoFailure, nil)
		return
	case <-sess.Context().Done(): // CANCEL from the caller, or the transaction died
		p.end(c, 487, "cancelled by caller", "remote", FailureNoAnswer, nil)
		return
	case <-stk.ctx.Done():
		_ = sess.Respond(480, "Temporarily Unavailable", nil, contact)
		p.end(c, 480, "Temporarily Unavailable", "local", NoFailure, nil)
		return
	}

	ms, err := media.Open(p.mediaConfig(l.localIP))
	if err != nil {
		_ = sess.Respond(500, "Server Internal Error", nil, contact)
		p.end(c, 500, "no RTP port", "local", FailureNetwork, err)
		return
	}
	defer ms.Close()
	ma := p.publicMedia(stk.ctx, stk, acc, l.localIP, ms)
	c.mu.Lock()
	c.addr = ma
	c.mu.Unlock()
	local := p.localSDP(ma)
	answer, n, err := sdp.Answer(req.Body(), local)
	if err == nil {
		var params media.Params
		if params, err = mediaParams(n, a); err == nil {
			c.mu.Lock()
			c.media, c.local, c.contact, c.source, c.sink, c.answered = ms, local, l.contact, a.Source, a.Sink, true
			c.remoteSDP = params.Remote
			c.mu.Unlock()
			ms.Start(params)
		}
	}
	if err != nil {
		_ = sess.Respond(488, "Not Acceptable Here", nil, contact)
		p.end(c, 488, "Not Acceptable Here", "local", FailureDeclined, err)
		return
	}
	res := sip.NewSDPResponseFromRequest(sess.InviteRequest, answer)
	res.AppendHeader(contact)
	res.AppendHeader(sip.NewHeader("User-Agent", p.userAgent()))
	answered := p.clock.Now()
	p.update(c, func(s *CallStatus) {
		s.State, s.Codec, s.Answered, s.Code, s.Reason = CallAnswered, n.Codec.Name, answered, 200, "OK"
	})
	// WriteResponse retransmits the 200 until the ACK arrives (RFC 3261 13.3.1.4).
	if err := sess.WriteResponse(res); err != nil {
		if errors.Is(err, sip.ErrTransactionCanceled) || sess.Context().Err() != nil {
			p.end(c, 487, "cancelled by caller", "remote", FailureNoAnswer, nil)
			return
		}
		p.log.Warn("no ACK for our 200 OK", "call", c.id, "err", err)
		_ = sess.Bye(stk.ctx)
		p.end(c, 408, "no ACK", "local", FailureNetwork, err)
		return
	}
	p.talk(stk.ctx, c, ms, sess)
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

// onReinvite answers an in-dialog INVITE: new SDP (hold, a new address, a codec change) from
// the far end. We answer with our current SDP, version bumped, and follow the new parameters.
func (p *Phone) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	c := p.callForRequest(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	c.mu.Lock()
	ms, local, src, sink := c.media, c.local, c.source, c.sink
	c.local.SessionVersion++
	local.SessionVersion++
	c.mu.Unlock()
	if ms == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 491, "Request Pending", nil))
		return
	}
	answer, n, err := sdp.Answer(req.Body(), local)
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
		return
	}
	params, err := mediaParams(n, CallAudio{Source: src, Sink: sink})
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
		return
	}
	ms.Update(params)
	c.mu.Lock()
	c.remoteSDP = params.Remote
	c.mu.Unlock()
	res := sip.NewSDPResponseFromRequest(req, answer)
	res.AppendHeader(&sip.ContactHeader{Address: c.contact})
	if err := tx.Respond(res); err != nil {
		p.log.Warn("answer re-INVITE", "call", c.id, "err", err)
	}
	p.log.Info("re-INVITE answered", "call", c.id, "hold", n.Hold)
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
	c.mu.Lock()
	readBye := c.readBye
	c.mu.Unlock()
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
