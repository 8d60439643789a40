package phone

import (
	"slices"

	"github.com/dialtone/dialtone/phone/media"

	"github.com/emiago/sipgo/sip"
)

// Call pickup (RFC 3891 §3). While an outgoing call of ours rings, another phone can take
// it: the callee's colleague picks it up and sends us an INVITE whose Replaces names the early
// dialog the callee's 180 made. An early dialog this UA initiated may be replaced; the new
// call is answered at once with the ringing call's audio, and the ringing INVITE is cancelled
// (answerReplacing). Early dialogs of calls that ring here (incoming) are not ours to give
// away: such a Replaces still gets 481.

// earlyDialogs are an outgoing call's early dialogs: the INVITE's Call-ID and our From tag,
// and the To tag of each fork that answered it with a provisional response.
type earlyDialogs struct {
	callID, local string
	contact       sip.Uri // our INVITE's Contact, for the 200 to an UPDATE in one (early_update.go)
	remote        []string
	// taken: an INVITE picking the call up is being answered (releasePickup undoes it if
	// that INVITE is refused), so a second one, or a retransmission with another branch,
	// gets 481 instead of a second call with the same audio.
	taken bool
	// silenced: the call was picked up, and its early media may not start again.
	silenced bool
}

// noteInvite records the Call-ID and From tag of c's INVITE, which its early dialogs share.
func (c *call) noteInvite(req *sip.Request) {
	var tag string
	if from := req.From(); from != nil {
		tag, _ = from.Params.Get("tag")
	}
	var contact sip.Uri
	if cont := req.Contact(); cont != nil {
		contact = *cont.Address.Clone()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if id := req.CallID(); id != nil {
		c.early = earlyDialogs{callID: string(*id), local: tag, contact: contact}
	}
}

// noteEarly records the early dialog a provisional response to c's INVITE makes.
func (c *call) noteEarly(res *sip.Response) {
	to := res.To()
	if to == nil {
		return
	}
	tag, ok := to.Params.Get("tag")
	if !ok || tag == "" {
		return // a 100 Trying, or a 1xx without a dialog
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.early.remote, tag) && len(c.early.remote) < maxEarlyDialogs {
		c.early.remote = append(c.early.remote, tag)
	}
}

// maxEarlyDialogs bounds the forks a ringing call remembers.
const maxEarlyDialogs = 16

// ringingCallByDialog is the outgoing call of ours, still ringing, one of whose early dialogs
// has callID, our tag local and the far end's tag remote (Replaces' to-tag and from-tag, as
// the recipient sees them), and takes it for the caller; nil if none. A call the user hung
// up, whose CANCEL may wait seconds for its 487, is no longer ringing; nor is one taken.
func (p *Phone) ringingCallByDialog(callID, local, remote string) *call {
	for _, c := range p.outgoingCalls() {
		if c.ended() || c.hungUp() {
			continue
		}
		c.mu.Lock()
		match := !c.answered && !c.early.taken && c.early.callID == callID && c.early.local == local &&
			slices.Contains(c.early.remote, remote)
		if match {
			c.early.taken = true
		}
		c.mu.Unlock()
		if match {
			return c
		}
	}
	return nil
}

// outgoingCalls are the calls we placed that are still filed (an ended one may be, briefly:
// callers check ended()).
func (p *Phone) outgoingCalls() []*call {
	p.mu.Lock()
	defer p.mu.Unlock()
	calls := make([]*call, 0, len(p.calls))
	for _, c := range p.calls {
		if c.dir == Outgoing {
			calls = append(calls, c)
		}
	}
	return calls
}

// releasePickup lets c be picked up again once the INVITE that took it is done with: it was
// refused, or it answered and c was hung up (which keeps c from being taken again).
func (c *call) releasePickup() {
	c.mu.Lock()
	c.early.taken = false
	c.mu.Unlock()
}

// silenceEarly stops c's early media, if it plays any, before c's audio goes to the call that
// picked it up: the ringing call's session would go on writing to the same sink until its
// CANCEL is answered. Under c.mu with startEarly, so a 183 handled meanwhile cannot start it
// again.
func (c *call) silenceEarly() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.early.silenced = true
	if c.media != nil && !c.answered && c.dir == Outgoing {
		c.media.Update(media.Params{})
	}
}

// startEarly starts ms, c's media session, with the early media params p, unless c was picked
// up meanwhile (silenceEarly).
func (c *call) startEarly(ms *media.Session, p media.Params) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.early.silenced {
		ms.Start(p)
	}
}
