package phone

import (
	"context"
	"errors"
	"time"

	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// The SIP side of hold: our re-INVITE through the call's sipgo dialog session, and the far
// end's re-INVITE or UPDATE handed to the call's talk loop.

// remoteTarget is where requests in the dialog go: the far end's Contact.
func remoteTarget(d dialog) (sip.Uri, bool) {
	var cont *sip.ContactHeader
	switch s := d.(type) {
	case *sipgo.DialogClientSession:
		if s.InviteResponse != nil {
			cont = s.InviteResponse.Contact()
		}
		if cont == nil {
			u := *s.InviteRequest.Recipient.Clone()
			return u, true
		}
	case *sipgo.DialogServerSession:
		cont = s.InviteRequest.Contact()
	}
	if cont == nil {
		return sip.Uri{}, false
	}
	u := *cont.Address.Clone()
	u.Headers = nil
	return u, true
}

// reinvite sends a re-INVITE with offer in the call's dialog and acknowledges a 2xx. The
// answer is read against local (our offer) into media parameters for audio a.
func (p *Phone) reinvite(ctx context.Context, c *call, d dialog, contact sip.Uri, offer []byte, local sdp.Local, a CallAudio) offerOutcome {
	target, ok := remoteTarget(d)
	if !ok {
		return offerOutcome{code: 500, reason: "no Contact from the far end to send a re-INVITE to"}
	}
	target = c.targetOr(target)
	req := sip.NewRequest(sip.INVITE, target)
	req.AppendHeader(&sip.ContactHeader{Address: contact})
	req.AppendHeader(sip.NewHeader("Allow", allowMethods))
	req.AppendHeader(sip.NewHeader("User-Agent", p.userAgent()))
	ct := sip.ContentTypeHeader("application/sdp")
	req.AppendHeader(&ct)
	req.SetBody(offer)
	rctx, cancel := context.WithTimeout(ctx, reinviteTimeout)
	defer cancel()
	p.log.Info("re-INVITE", "call", c.id, "direction", local.Dir.String())
	var res *sip.Response
	err := c.sendInDialog(rctx, func() (err error) {
		if res, err = d.Do(rctx, req); err != nil || !res.IsSuccess() {
			return err
		}
		c.refreshTarget(res.Contact())
		target = c.targetOr(target)
		// Every 2xx is acknowledged, even one whose answer we cannot use (RFC 3261
		// 13.2.2.4), before any other request of ours takes the dialog's next CSeq.
		ack := sip.NewRequest(sip.ACK, target)
		ack.AppendHeader(&sip.ContactHeader{Address: contact})
		if err := d.WriteRequest(ack); err != nil {
			p.log.Warn("ACK of re-INVITE", "call", c.id, "err", err)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return offerOutcome{code: 487, reason: "call ended"}
		}
		return offerOutcome{reason: "re-INVITE: " + err.Error()}
	}
	out := offerOutcome{code: int(res.StatusCode), reason: res.Reason}
	if !res.IsSuccess() {
		return out
	}
	n, params, err := acceptAnswer(local, sdpOf(res), a)
	out.params = params
	if err != nil {
		p.log.Warn("answer to our re-INVITE unusable", "call", c.id, "err", err)
		return out
	}
	out.ok, out.hold = true, n.Hold
	return out
}

// onUpdate answers UPDATE (RFC 3311): in an early dialog of a call we placed, as
// early_update.go says; else with SDP it is an offer like a re-INVITE's, and without it
// refreshes the dialog (session timers) and gets a plain 200.
func (p *Phone) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	if p.callForRequest(req) == nil {
		if c := p.earlyCallFor(req); c != nil { // a call of ours that rings (early_update.go)
			p.answerEarlyUpdate(c, req, tx)
			return
		}
	}
	if len(req.Body()) > 0 {
		p.inDialogOffer(req, tx)
		return
	}
	c := p.callForRequest(req)
	if c == nil || c.ended() { // ended: its dialog is about to be removed
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	if p.refuseOutOfOrder(c, req, tx) {
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	c.mu.Lock()
	res.AppendHeader(&sip.ContactHeader{Address: c.contact})
	c.mu.Unlock()
	c.refreshTarget(req.Contact())
	_ = tx.Respond(res)
}

// offerWaitForTalk bounds how long an offer that comes between the answer and the start of the
// call's talk loop waits for it. The loop starts once the ACK is in: ours sent, or theirs
// read, at once or, when the first was lost, at its retransmission (after 0.5 s, then 1 s).
const offerWaitForTalk = 2 * time.Second

// inDialogOffer hands the far end's offer (re-INVITE or UPDATE) to the call's talk loop and
// waits until it has been answered: sipgo ends the transaction when the handler returns.
func (p *Phone) inDialogOffer(req *sip.Request, tx sip.ServerTransaction) {
	refuse := func(code int, reason string) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
	}
	c := p.callForRequest(req)
	if c == nil || c.ended() { // ended: its dialog is about to be removed
		refuse(481, "Call/Transaction Does Not Exist")
		return
	}
	if p.refuseOutOfOrder(c, req, tx) {
		return // a replayed offer must not move the media
	}
	c.mu.Lock()
	talking, answered := c.talking, c.machine.Established()
	c.mu.Unlock()
	if !talking && !answered { // not answered yet, or ending
		refuse(491, "Request Pending")
		return
	}
	// Answered, and the talk loop about to take offers: a far end that holds the call as soon
	// as it has sent its ACK (or has ours) waits for it rather than getting 491, which a
	// peer that does not retry (baresip) takes as its hold refused.
	var late <-chan time.Time
	if !talking {
		t := time.NewTimer(offerWaitForTalk)
		defer t.Stop()
		late = t.C
	}
	o := &remoteOffer{req: req, tx: tx, done: make(chan struct{})}
	select {
	case c.offerCh <- o:
	case <-c.done:
		refuse(481, "Call/Transaction Does Not Exist")
		return
	case <-late: // our 200 never acknowledged, say
		refuse(491, "Request Pending")
		return
	}
	select {
	case <-o.done:
	case <-c.done: // cannot happen without an answer (talk answers leftovers), but never hang
	}
}
