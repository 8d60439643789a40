package phone

import (
	"net/url"
	"strings"

	lifecycle "github.com/dialtone/dialtone/phone/call"
	"github.com/emiago/sipgo/sip"
)

// takeOverByReplaces looks at a new INVITE's Replaces header (RFC 3891) and returns the
// answered call of ours it replaces, which onInvite ends with a BYE as it answers the INVITE
// at once with its audio (answerReplacing), or our outgoing call that rings, which it
// cancels (call pickup, pickup.go). refused is true when it has turned the INVITE
// away itself: a bad header 400, no such dialog 481, early-only for an answered call 486.
// Both are zero for an INVITE without Replaces.
func (p *Phone) takeOverByReplaces(req *sip.Request, tx sip.ServerTransaction) (old *call, refused bool) {
	h := headerNamed(req, "Replaces")
	if h == nil {
		return nil, false
	}
	respond := func(code int, reason string) (*call, bool) {
		if err := tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil)); err != nil {
			p.log.Debug("respond to INVITE with Replaces", "code", code, "err", err)
		}
		return nil, true
	}
	r, err := parseReplaces(h.Value())
	if err != nil {
		p.log.Info("INVITE with a bad Replaces refused", "err", err)
		return respond(400, "Bad Request (Replaces)")
	}
	id, d := p.callByDialog(r.CallID, r.ToTag, r.FromTag)
	if d == nil {
		if old := p.ringingCallByDialog(r.CallID, r.ToTag, r.FromTag); old != nil {
			// Picked up (pickup.go): early-only or not, the dialog is early.
			p.log.Info("INVITE picks up a call that rings", "call", old.id, "sip_call_id", string(*req.CallID()))
			return old, false
		}
		p.log.Info("INVITE replaces no call of ours", "replaces", r.String())
		return respond(481, "Call/Transaction Does Not Exist")
	}
	old, err = p.lookupCall(id) // an ended call is no call (ErrNoSuchCall)
	if err != nil {
		return respond(481, "Call/Transaction Does Not Exist")
	}
	if r.EarlyOnly {
		return respond(486, "Busy Here") // RFC 3891 3: early-only, and ours is confirmed
	}
	p.log.Info("INVITE replaces a call", "call", id, "sip_call_id", string(*req.CallID()))
	return old, false
}

// answerReplacing answers the replacing call with the audio of old and hangs old up. The
// front end hears of the new call first as old's replacement (CallReplaced), then answered:
// never as ringing, which made the TUI announce an incoming call and `answer` count it as a
// new caller (and, answering itself, give it another call's audio). old ends first: answering
// while it is up would make it a waiting call put on hold, a re-INVITE racing our BYE.
func (x *incomingRun) answerReplacing(old *call) lifecycle.Input {
	p, c := x.p, x.c
	old.mu.Lock()
	a := CallAudio{Source: old.source, Sink: old.sink}
	old.mu.Unlock()
	if old.ended() { // it ended while we read the INVITE: its audio may be closed already
		return lifecycle.Reject{Code: 481, Reason: "Call/Transaction Does Not Exist"}
	}
	p.log.Info("call replaced", "old", old.id, "new", c.id)
	p.publishReplaced(old, c.id) // c is up: it is being answered here
	old.hangup()
	old.silenceEarly() // a ringing call picked up: its early media stops (pickup.go)
	c.mu.Lock()
	c.source, c.sink = a.Source, a.Sink
	c.mu.Unlock()
	return lifecycle.Answer{}
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
