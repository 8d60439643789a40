package phone

import (
	"slices"

	"github.com/emiago/sipgo/sip"
)

// While a call we placed rings, the far end may send UPDATE in its early dialog (RFC 3311).
// Asterisk does, without SDP, to say whom the call now rings or who picked it up (its
// connected-line update, sent as UPDATE to a caller whose Allow lists it, as ours does). Early
// dialogs are not filed with the answered ones (p.dialogs), so such an UPDATE got 481; and
// PJSIP, Asterisk's SIP stack, ends the dialog on a 481 to an UPDATE as RFC 3311 §5.3 (after
// RFC 3261 §12.2.1.2) says a UAC should: the PBX cut the call off as it was answered
// (asterisk/asterisk#1905, a softphone calling a ring group).

// earlyCallFor is the outgoing call, not ended, one of whose early dialogs req (a request of
// the far end's) is in: the Call-ID its INVITE's, the To tag ours. nil if none. The From tag
// need not be one its 1xx responses carried: sipgo handles each message on a goroutine of its
// own, so an UPDATE sent right behind the 180 that made its early dialog (as Asterisk's
// connected-line update can be) may be handled before that 180, and a 180 lost on UDP is never
// sent again; either way the UPDATE would have had the 481 PJSIP ends the call on. Such a tag
// is not recorded: only a 1xx makes an early dialog that a pickup may take (pickup.go).
func (p *Phone) earlyCallFor(req *sip.Request) *call {
	callID, to, from := req.CallID(), req.To(), req.From()
	if callID == nil || to == nil || from == nil {
		return nil
	}
	local, _ := to.Params.Get("tag")
	remote, _ := from.Params.Get("tag")
	if local == "" || remote == "" {
		return nil
	}
	for _, c := range p.outgoingCalls() {
		if c.ended() {
			continue
		}
		c.mu.Lock()
		match := c.early.callID == string(*callID) && c.early.local == local &&
			(!c.answered || slices.Contains(c.early.remote, remote))
		c.mu.Unlock()
		if match {
			return c
		}
	}
	return nil
}

// answerEarlyUpdate answers an UPDATE in one of c's early dialogs. Without an offer it changes
// nothing of the session (a refresh, or an identity the far end states): 200 with our
// Contact. With one, 491: our INVITE's offer has had no reliable answer yet, which RFC 3311
// §5.2 says such an UPDATE waits for (we do not do 100rel, so its answer is the 2xx's).
// The UPDATE is a target refresh (RFC 3311 §5.2), but its Contact is not taken: the 2xx to
// the INVITE sets the target of the dialog that is answered (RFC 3261 §12.1.2), and nothing
// goes to an early one but the CANCEL, which follows the INVITE. Nor is its CSeq kept for the
// order of the far end's requests: nothing it changes could be replayed.
func (p *Phone) answerEarlyUpdate(c *call, req *sip.Request, tx sip.ServerTransaction) {
	respond := p.responder(req, tx)
	if len(req.Body()) > 0 {
		respond(491, "Request Pending")
		return
	}
	c.mu.Lock()
	contact := c.early.contact
	c.mu.Unlock()
	p.log.Debug("UPDATE in an early dialog", "call", c.id)
	if contact.Host == "" {
		respond(200, "OK")
		return
	}
	respond(200, "OK", &sip.ContactHeader{Address: contact})
}
