package phone

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// replaceAnswerTimeout bounds how long we wait for the replacing INVITE to become a call we
// can answer, and for that answer.
const replaceAnswerTimeout = 30 * time.Second

// takeOverByReplaces looks at a new INVITE's Replaces header (RFC 3891): an INVITE that
// replaces one of our answered calls ends that call with a BYE and is answered at once with
// its audio. It returns true when it has
// refused the INVITE itself (a bad header 400, no such dialog 481, early-only for an answered
// call 486); false lets onInvite go on as for any call.
func (p *Phone) takeOverByReplaces(stk *stack, req *sip.Request, tx sip.ServerTransaction) bool {
	h := headerNamed(req, "Replaces")
	if h == nil {
		return false
	}
	respond := func(code int, reason string) bool {
		if err := tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil)); err != nil {
			p.log.Debug("respond to INVITE with Replaces", "code", code, "err", err)
		}
		return true
	}
	r, err := parseReplaces(h.Value())
	if err != nil {
		p.log.Info("INVITE with a bad Replaces refused", "err", err)
		return respond(400, "Bad Request (Replaces)")
	}
	id, d := p.callByDialog(r.CallID, r.ToTag, r.FromTag)
	if d == nil {
		p.log.Info("INVITE replaces no call of ours", "replaces", r.String())
		return respond(481, "Call/Transaction Does Not Exist")
	}
	old, err := p.lookupCall(id)
	if err != nil || old.ended() {
		return respond(481, "Call/Transaction Does Not Exist")
	}
	if r.EarlyOnly {
		return respond(486, "Busy Here") // RFC 3891 3: early-only, and ours is confirmed
	}
	p.log.Info("INVITE replaces a call", "call", id, "sip_call_id", string(*req.CallID()))
	ctx, cancel := context.WithTimeout(stk.ctx, replaceAnswerTimeout)
	events := p.Subscribe(ctx) // before onInvite publishes the new call
	go func() {                // bounded by ctx: Run's end or replaceAnswerTimeout
		defer cancel()
		p.replaceCall(ctx, events, old, string(*req.CallID()))
	}()
	return false
}

// replaceCall hangs the old call up and answers the replacing call (the one whose SIP Call-ID
// is sipCallID) with the old call's audio.
func (p *Phone) replaceCall(ctx context.Context, events <-chan Event, old *call, sipCallID string) {
	newID := ""
	for {
		var ev Event
		select {
		case ev = <-events:
		case <-ctx.Done():
			return
		}
		s, ok := ev.(CallStatus)
		if !ok || s.Direction != Incoming || (newID == "" && s.SIPCallID != sipCallID) || (newID != "" && s.ID != newID) {
			continue
		}
		switch s.State {
		case CallIncoming:
			if newID != "" {
				continue
			}
			newID = s.ID
			old.mu.Lock()
			a := CallAudio{Source: old.source, Sink: old.sink}
			old.mu.Unlock()
			// The old call ends first: answering while it is up would make it a waiting call
			// put on hold (a re-INVITE racing our BYE), and its audio moves to the new one.
			p.log.Info("call replaced", "old", old.id, "new", newID)
			p.publish(CallReplaced{Time: p.clock.Now(), CallID: old.id, NewCallID: newID, Account: old.accountName()})
			old.hangup()
			if err := p.Answer(newID, a); err != nil {
				p.log.Warn("replacing call not answered", "call", newID, "err", err)
			}
			return
		}
	}
}

// uriHeadersToRequest moves the headers of the INVITE's Request-URI into the request (RFC
// 3261 19.1.5): a transfer target "sip:bob@x?Replaces=..." becomes an INVITE to sip:bob@x
// with a Replaces header. Only Replaces is carried over; other URI headers are dropped.
func uriHeadersToRequest(req *sip.Request) {
	if req.Recipient.Headers.Length() == 0 {
		return
	}
	for _, kv := range req.Recipient.Headers {
		if !strings.EqualFold(kv.K, "Replaces") {
			continue
		}
		v, err := url.PathUnescape(kv.V)
		if err != nil {
			continue
		}
		if _, err := parseReplaces(v); err == nil {
			req.AppendHeader(sip.NewHeader("Replaces", v))
		}
	}
	req.Recipient.Headers = nil
}

// headerNamed is the first header called name (any case), or nil. sipgo's GetHeader lowers
// every header's name as it looks, allocating for each name it does not know (Max-Forwards,
// User-Agent, ...): ~4 µs on every INVITE, to learn that it has no Replaces.
func headerNamed(req *sip.Request, name string) sip.Header {
	for _, h := range req.Headers() {
		if strings.EqualFold(h.Name(), name) {
			return h
		}
	}
	return nil
}
