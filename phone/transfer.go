package phone

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TransferProgress reports how a transfer we asked for is going: the REFER's own refusal, or
// a NOTIFY's message/sipfrag status from the transferee (RFC 3515 2.4.5): 100 Trying, 180
// Ringing, and a final status. Final is set on the last one; after a 2xx the transferred call
// is hung up, after a failure it stays as it was.
type TransferProgress struct {
	Time    time.Time
	CallID  string
	Account string
	Code    int
	Reason  string
	Final   bool
}

// EventTime implements Event.
func (e TransferProgress) EventTime() time.Time { return e.Time }

// CallReplaced says that a call goes on as another one: we were transferred (the far end's
// REFER) and the new call we placed is answered, or an INVITE with Replaces took the call
// over. The old call ends next (its own hangup event follows); a front end that follows the
// call, and the audio it gave it, moves to NewCallID, which uses the same audio.
type CallReplaced struct {
	Time      time.Time
	CallID    string // the call that ends
	NewCallID string // the call that takes its place
	Account   string
}

// EventTime implements Event.
func (e CallReplaced) EventTime() time.Time { return e.Time }

// referTimeout bounds the REFER transaction; notifyTimeout is how long we wait for the
// transferee's final NOTIFY before giving the transfer up (the call stays).
const (
	referTimeout  = 32 * time.Second
	notifyTimeout = 90 * time.Second
)

// finalNotifyGrace is how long at least a transfer still waiting for its outcome outlives the
// call's dialog (transferState.forget); it waits as long as it would have with the call up
// (notifyTimeout after the REFER) if that is longer. The subscription is a usage of the
// dialog of its own (RFC 5057 §5.2): a transferee that hangs up at once reports a target
// that answers 20 s later all the same, and one that hangs up as it reports its new call
// answered sends NOTIFY and BYE a moment apart, which sipgo hands to handlers in goroutines of
// their own, in either order. A variable for tests.
var finalNotifyGrace = 10 * time.Second

// referSub is the implicit subscription a REFER we sent created (RFC 3515 2.4.4): the
// NOTIFYs that arrive for it in the call's dialog, until a final status.
type referSub struct {
	timer *time.Timer
	done  bool
	// call and dialogID find it once the call's dialog has ended (transferState.late).
	call     *call
	dialogID string
	// cseq is the REFER's CSeq number once it has been sent (0 before): a NOTIFY whose
	// "Event: refer;id=" names another REFER is not this one's (RFC 3515 2.4.6).
	cseq uint32
	// until is when the transfer stops waiting for its outcome (notifyTimeout after the
	// 202), also once the call's dialog has ended. x.mu guards it.
	until time.Time
}

// names says whether a NOTIFY whose Event header has params (after "refer;") may be for this
// REFER: one without an id is taken (transferees name only a dialog's second REFER and later
// ones, and many none at all), one with the id of another REFER of ours is not.
func (s *referSub) names(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "id") {
			id, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
			return err == nil && (s.cseq == 0 || uint32(id) == s.cseq)
		}
	}
	return true
}

// ErrTransferInProgress means a call already has a transfer waiting for its outcome.
var ErrTransferInProgress = errors.New("a transfer is already in progress on this call")

// Transfer hands an answered call over to target (blind transfer, RFC 5589 6): a REFER in
// the call's dialog asks the far end to call target. Progress arrives as TransferProgress
// events; once the far end reports its new call answered, this call is hung up. It returns
// when the far end has accepted (202) or refused the REFER.
func (p *Phone) Transfer(id, target string) error {
	c, err := p.lookupCall(id)
	if err != nil {
		return err
	}
	u, err := parseTarget(target, c.account)
	if err != nil {
		return fmt.Errorf("transfer call %s: %w", id, err)
	}
	return p.refer(c, u, nil)
}

// TransferTo connects the far ends of two answered calls (attended transfer, RFC 5589 7):
// the far end of call id is asked to call the far end of call otherID with a Replaces header
// naming otherID's dialog, so that it takes our place there. Both of our calls end once the
// new call is answered (the one through BYE from us, the other replaced by the transfer target).
func (p *Phone) TransferTo(id, otherID string) error {
	c, err := p.lookupCall(id)
	if err != nil {
		return err
	}
	if id == otherID {
		return fmt.Errorf("transfer call %s: cannot transfer a call to itself", id)
	}
	if _, err := p.lookupCall(otherID); err != nil {
		return fmt.Errorf("transfer call %s: %w", id, err)
	}
	other := p.dialogOf(otherID)
	if other == nil {
		return fmt.Errorf("transfer call %s to %s: call %s is not answered", id, otherID, otherID)
	}
	// The target sees the consulted dialog from its side: its own tag is our remote tag.
	r := &replaces{CallID: other.callID, ToTag: other.remoteTag, FromTag: other.localTag}
	return p.refer(c, other.target(), r)
}

// refer sends the REFER and starts waiting for its NOTIFYs.
func (p *Phone) refer(c *call, target sip.Uri, r *replaces) error {
	d := p.dialogOf(c.id)
	if d == nil || c.ended() {
		return fmt.Errorf("transfer call %s: not answered", c.id)
	}
	x := &p.xfer
	x.mu.Lock()
	if x.subs == nil {
		x.subs = map[string]*referSub{}
	}
	if s := x.subs[c.id]; s != nil && !s.done {
		x.mu.Unlock()
		return fmt.Errorf("transfer call %s: %w", c.id, ErrTransferInProgress)
	}
	c.mu.Lock()
	// Until the 202 sets it: a REFER may wait its turn, and its transaction, before that.
	sub := &referSub{call: c, dialogID: c.dialogID, until: time.Now().Add(2*referTimeout + notifyTimeout)}
	c.mu.Unlock()
	x.subs[c.id] = sub
	x.mu.Unlock()

	req := p.inDialogRequest(d, sip.REFER)
	req.AppendHeader(sip.NewHeader("Refer-To", referToValue(target, r)))
	if c.account != nil {
		req.AppendHeader(sip.NewHeader("Referred-By", "<"+c.account.aor.String()+">"))
	}
	req.AppendHeader(sip.NewHeader("Allow", allowMethods))
	ctx, cancel := context.WithTimeout(d.ctx, referTimeout)
	defer cancel()
	p.log.Info("transfer: REFER", "call", c.id, "to", target.String(), "attended", r != nil)
	res, err := d.do(ctx, req)
	if cs := req.CSeq(); cs != nil {
		x.mu.Lock()
		sub.cseq = cs.SeqNo // numbered as sipgo sent it
		x.mu.Unlock()
	}
	if err != nil || res.StatusCode >= 300 {
		code, reason := 408, "Request Timeout"
		if err == nil {
			code, reason = int(res.StatusCode), res.Reason
		}
		p.finishRefer(c, sub, code, reason)
		if err != nil {
			return fmt.Errorf("transfer call %s: REFER: %w", c.id, err)
		}
		return fmt.Errorf("transfer call %s: REFER refused: %d %s", c.id, code, reason)
	}
	x.mu.Lock()
	// The final NOTIFY may have come before the 202; the dialog may have ended (forget: the
	// subscription then waits finalNotifyGrace on its own timer).
	if !sub.done && x.subs[c.id] == sub {
		sub.until = time.Now().Add(notifyTimeout)
		sub.timer = time.AfterFunc(notifyTimeout, func() {
			x.mu.Lock()
			// Checked and claimed at once: one the call's end moved to late (forget) waits out
			// its grace, and is not reported on the ended call.
			claimed := x.subs[c.id] == sub && x.claim(c.id, sub)
			x.mu.Unlock()
			if claimed {
				p.referDone(c, 408, "no final NOTIFY from the transferee")
			}
		})
	}
	x.mu.Unlock()
	return nil
}

// finishRefer ends a transfer with its final status (once): published, and the call hung up
// after a 2xx.
func (p *Phone) finishRefer(c *call, sub *referSub, code int, reason string) {
	x := &p.xfer
	x.mu.Lock()
	claimed := x.claim(c.id, sub)
	x.mu.Unlock()
	if claimed {
		p.referDone(c, code, reason)
	}
}

// claim marks the transfer on call id finished; false if it was already. x.mu is held.
func (x *transferState) claim(id string, sub *referSub) bool {
	if sub.done {
		return false
	}
	sub.done = true
	if sub.timer != nil {
		sub.timer.Stop()
	}
	if x.subs[id] == sub {
		delete(x.subs, id)
	}
	if x.late[sub.dialogID] == sub {
		delete(x.late, sub.dialogID)
	}
	return true
}

// referDone publishes a claimed transfer's final status, and hangs the call up after a 2xx.
func (p *Phone) referDone(c *call, code int, reason string) {
	p.publish(TransferProgress{Time: p.clock.Now(), CallID: c.id, Account: c.accountName(), Code: code, Reason: reason, Final: true})
	if code >= 200 && code < 300 {
		p.log.Info("transfer: done; hanging up", "call", c.id)
		c.hangup()
		return
	}
	p.log.Info("transfer: failed; the call stays", "call", c.id, "code", code, "reason", reason)
}

// onNotify takes the NOTIFYs of a REFER we sent, and a server's voicemail reports (the
// message-summary event, mwi.go). Anything else (no dialog, no REFER waiting, another event
// package) has no subscription here: 481 (RFC 6665 4.1.3).
func (p *Phone) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	respond := p.responder(req, tx)
	ev, params := "", ""
	h := req.GetHeader("Event")
	if h == nil {
		h = req.GetHeader("o") // its compact form
	}
	if h != nil {
		ev, params, _ = strings.Cut(strings.TrimSpace(h.Value()), ";")
	}
	if strings.EqualFold(strings.TrimSpace(ev), "message-summary") {
		p.onMessageSummary(req, tx) // voicemail waiting (mwi.go)
		return
	}
	c := p.callForRequest(req)
	var sub *referSub
	p.xfer.mu.Lock()
	if c != nil {
		sub = p.xfer.subs[c.id]
	}
	if sub == nil { // the call's dialog ended before it came (the call may not be removed yet)
		if sub = p.xfer.lateFor(req); sub != nil {
			c = sub.call
		}
	}
	named := sub != nil && sub.names(params) // sub.cseq is set under p.xfer.mu
	p.xfer.mu.Unlock()
	if c == nil || !named || !strings.EqualFold(strings.TrimSpace(ev), "refer") {
		p.log.Info("NOTIFY for no subscription", "event", ev, "params", params, "call_found", c != nil)
		respond(481, "Subscription Does Not Exist")
		return
	}
	if d := p.dialogOf(c.id); d != nil {
		if err := d.checkCSeq(req); err != nil {
			p.log.Info("NOTIFY refused", "call", c.id, "err", err)
			respond(500, "Server Internal Error") // CSeq out of order (RFC 3261 12.2.2)
			return
		}
	}
	frag, err := parseSipfrag(req.Body())
	if err != nil {
		p.log.Info("NOTIFY with a bad sipfrag", "call", c.id, "err", err)
		respond(400, "Bad Request (message/sipfrag)")
		return
	}
	terminated := false
	if h := req.GetHeader("Subscription-State"); h != nil {
		terminated = strings.HasPrefix(strings.ToLower(strings.TrimSpace(h.Value())), "terminated")
	}
	code, reason := frag.Code, frag.Reason
	if code < 200 && terminated { // ended without a final status: nothing more will come
		code, reason = 487, "subscription terminated without a final status"
	}
	if code < 200 {
		respond(200, "OK")
		p.publish(TransferProgress{Time: p.clock.Now(), CallID: c.id, Account: c.accountName(), Code: code, Reason: reason})
		return
	}
	// The final status is claimed before our 200 goes out. The transferee hangs up as soon as
	// it has that 200 (refer.go), and the end of the dialog forgets the subscription
	// (trackDialog): claimed after our 200, the outcome lost that race now and then and was
	// never published (TestTransferBadInput waited 20 s for it under load).
	p.xfer.mu.Lock()
	claimed := p.xfer.claim(c.id, sub)
	p.xfer.mu.Unlock()
	if !claimed {
		respond(481, "Subscription Does Not Exist") // ended meanwhile (a final NOTIFY, the timeout, the call)
		return
	}
	respond(200, "OK")
	p.referDone(c, code, reason)
}
