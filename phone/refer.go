package phone

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// transfereeTimeout bounds the whole of a transfer we carry out for the far end: the new
// call's ringing (the ring timeout) and a margin.
var transfereeTimeout = defaultRingTimeout + 30*time.Second // a variable for tests

// referExpiryMargin is how long the REFER's subscription outlives transfereeTimeout, for the
// final NOTIFY sent when it runs out.
const referExpiryMargin = 30 * time.Second

// supportedExtensions is our Supported header: Replaces (RFC 3891) and REFER without its
// implicit subscription (RFC 4488).
const supportedExtensions = "replaces, norefersub"

// onRefer is the far end asking us to call someone else (we are the transferee, RFC 5589):
// accepted with 202, a NOTIFY 100 Trying, the new call placed through the same account, its
// progress reported in NOTIFYs (message/sipfrag), and the old call ended once the new one is
// answered. A REFER we cannot act on is refused and the call goes on as before.
func (p *Phone) onRefer(stk *stack, req *sip.Request, tx sip.ServerTransaction) {
	respond := p.responder(req, tx)
	c := p.callForRequest(req)
	if c == nil {
		respond(481, "Call/Transaction Does Not Exist") // out of dialog: we take no orders from strangers
		return
	}
	d := p.dialogOf(c.id)
	if d == nil || c.ended() {
		respond(403, "Forbidden (the call is not answered)")
		return
	}
	if err := d.checkCSeq(req); err != nil {
		p.log.Info("REFER refused", "call", c.id, "err", err)
		respond(500, "Server Internal Error") // CSeq lower than the last one (RFC 3261 12.2.2)
		return
	}
	hs := req.GetHeaders("Refer-To")
	if len(hs) != 1 {
		p.log.Info("REFER refused: it needs exactly one Refer-To", "call", c.id, "count", len(hs))
		respond(400, "Bad Request (exactly one Refer-To is required)")
		return
	}
	t, err := parseReferTo(hs[0].Value())
	if err != nil {
		p.log.Info("REFER refused", "call", c.id, "err", err)
		if errors.Is(err, errNotSIPURI) {
			respond(416, "Unsupported URI Scheme")
			return
		}
		respond(400, "Bad Request (Refer-To)")
		return
	}
	x := &p.xfer
	x.mu.Lock()
	if x.busy == nil {
		x.busy = map[string]*successor{}
	}
	if x.busy[c.id] != nil {
		x.mu.Unlock()
		respond(491, "Request Pending")
		return
	}
	// This REFER's own: the next one may come before this one's clean-up is done (below).
	mine := &successor{ready: make(chan struct{})}
	x.busy[c.id] = mine
	x.mu.Unlock()
	free := func() { // on every way out; the next REFER's mark stays
		x.mu.Lock()
		if x.busy[c.id] == mine {
			delete(x.busy, c.id)
		}
		x.mu.Unlock()
	}
	defer free()
	// Filed before the 202: a transferor that hangs up as soon as it has it ends the old call
	// while we place the new one, and the old call's end must find its successor (handOver).
	p.xfer.expectSuccessor(c.id, mine)
	defer p.xfer.dropSuccessor(c.id, mine)
	// "Refer-Sub: false" (RFC 4488): the transferor wants no subscription, so no NOTIFYs; the
	// 202 says it is granted. They were sent anyway and answered 481.
	event := referEvent(d.refers.Add(1), req)
	notify := func(code int, reason string, final bool) { p.notifyRefer(stk.ctx, d, event, code, reason, final) }
	if h := req.GetHeader("Refer-Sub"); h != nil && strings.EqualFold(strings.TrimSpace(strings.SplitN(h.Value(), ";", 2)[0]), "false") {
		notify = func(int, string, bool) {}
		respond(202, "Accepted", sip.NewHeader("Refer-Sub", "false"))
	} else {
		respond(202, "Accepted")
	}
	p.log.Info("transfer requested by the far end", "call", c.id, "to", t.URI.String(), "attended", t.Replaces != nil)
	ctx, cancel := context.WithTimeout(stk.ctx, transfereeTimeout)
	defer cancel()
	code, reason, newID := p.transferee(ctx, c, notify, t, mine)
	// Free for another REFER before the transferor learns the outcome: it may try again at once.
	free()
	ok := code >= 200 && code < 300
	if ok {
		// Said before the final NOTIFY: the transferor hangs up on it, and whoever follows the
		// old call must learn of the new one before the old one's end.
		if id, said := p.xfer.claimOwn(mine); said && !p.publishReplaced(c, id) {
			p.log.Info("transfer: the new call ended before it took over", "call", c.id, "new", newID)
		}
	}
	notify(code, reason, true)
	if ok {
		p.log.Info("transfer: the new call is answered; ending the old one", "call", c.id, "new", newID)
		c.hangup()
	}
}

// transferee places the new call and reports its progress to the transferor until the
// final status, which it returns for the last NOTIFY, with the new call's id.
func (p *Phone) transferee(ctx context.Context, c *call, notify func(code int, reason string, final bool), t referTarget, s *successor) (code int, reason, newID string) {
	events := p.Subscribe(ctx) // before Dial: no event of the new call can be missed
	notify(100, "Trying", false)
	c.mu.Lock()
	a := CallAudio{Source: c.source, Sink: c.sink}
	c.mu.Unlock()
	target := t.URI.String()
	if t.Replaces != nil {
		target += "?Replaces=" + escapeURIHeader(t.Replaces.String())
	}
	newID, err := p.Dial(c.accountName(), target, a, DialOptions{})
	if err != nil {
		p.log.Warn("transfer: the new call could not be placed", "call", c.id, "err", err)
		return 503, "Service Unavailable", ""
	}
	p.xfer.setSuccessor(s, newID) // should the old call end first, the new one takes over then (handOver)
	rang := false
	for {
		var ev Event
		select {
		case ev = <-events:
		case <-ctx.Done():
			// Given up: the new call must not go on beside the old one the transferor keeps
			// (it could still be answered: its ring timeout starts only once it is sent).
			if err := p.Hangup(newID); err != nil && !errors.Is(err, ErrNoSuchCall) {
				p.log.Warn("transfer: the new call could not be hung up", "call", c.id, "new", newID, "err", err)
			}
			return 408, "Request Timeout", newID
		}
		s, ok := ev.(CallStatus)
		if !ok || s.ID != newID {
			continue
		}
		switch s.State {
		case CallRinging, CallEarlyMedia:
			if !rang {
				rang = true
				notify(180, "Ringing", false)
			}
		case CallAnswered:
			return 200, "OK", newID
		case CallEnded:
			if s.Code < 300 {
				return 487, "Request Terminated", newID
			}
			return s.Code, s.Reason, newID
		}
	}
}

// referEvent is the Event header value of the NOTIFYs for the nth REFER accepted in a dialog
// (RFC 3515 2.4.6): "refer", and from the second on "refer;id=" and the REFER's CSeq number,
// so that the transferor can tell them from the first's. (The first's go without: the RFC
// lets them, and every transferor takes them so.)
func referEvent(n int32, refer *sip.Request) string {
	if cseq := refer.CSeq(); n > 1 && cseq != nil {
		return "refer;id=" + strconv.FormatUint(uint64(cseq.SeqNo), 10)
	}
	return "refer"
}

// notifyRefer sends one NOTIFY of the REFER's implicit subscription (RFC 3515 2.4.4), its
// Event header event (referEvent); final ends the subscription. A BYE ends the call but not
// the subscription (RFC 5057 §5.2): when the transferor hung up once it had our 202 (a blind
// transfer, RFC 5589 §6), the final NOTIFY still goes, in the dialog as it was, for as long
// as life (the phone's run) lasts; the progress ones do not, nobody follows them any more. It
// used to be dropped, and the transferor never learnt the outcome.
func (p *Phone) notifyRefer(life context.Context, d *dialogRef, event string, code int, reason string, final bool) {
	ctx := d.ctx
	switch {
	case final:
		ctx = life // a BYE while it is on its way must not cut its retransmissions short either
	case d.ctx.Err() != nil:
		return
	}
	req := p.inDialogRequest(d, sip.NOTIFY)
	req.AppendHeader(sip.NewHeader("Event", event))
	// Until the transfer gives up (transfereeTimeout) and a little after: no NOTIFY refreshes
	// it once the transferor has hung up, and the final one must find it alive.
	state := "active;expires=" + strconv.Itoa(int((transfereeTimeout+referExpiryMargin)/time.Second))
	if final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	ct := sip.ContentTypeHeader("message/sipfrag;version=2.0")
	req.AppendHeader(&ct)
	req.SetBody(sipfragBody(code, reason))
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := d.do(ctx, req)
	switch {
	case err != nil:
		p.log.Info("transfer: NOTIFY not confirmed", "code", code, "err", err)
	case res.StatusCode >= 300:
		p.log.Info("transfer: NOTIFY refused", "code", code, "status", res.StatusCode, "reason", res.Reason)
	}
}

// handOver announces, before the end of call c, the call a transfer asked of us is placing in
// its place: a transferor that hangs up once it has our 202 (a blind transfer, RFC 5589 6)
// ends c long before the new call is answered, and a front end that closed c's audio and
// stopped following it at c's end left the new call without sound, or `dialtone call` exited.
// Said once: the transfer's answer does not say it again.
func (p *Phone) handOver(c *call) {
	if newID, ok := p.xfer.claimSuccessor(c.id); ok {
		p.publishReplaced(c, newID)
	}
}

// publishReplaced tells the front ends that the call newID carries on old (a transfer the far
// end asked of us, or an INVITE with Replaces), unless the new call has ended already: a front end that moved from old to
// newID would then wait for an end it had already passed (`dialtone call` waited for good, and
// the TUI kept the sound device open). Under p.mu, which every call's last event is published
// under (update), so the two cannot cross: either this comes first, or it is not said and the
// front end sees the old call end.
func (p *Phone) publishReplaced(old *call, newID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, ok := p.calls[newID]
	if !ok || n.ended() {
		return false
	}
	p.bus.publish(CallReplaced{Time: p.clock.Now(), CallID: old.id, NewCallID: newID, Account: old.accountName()})
	return true
}
