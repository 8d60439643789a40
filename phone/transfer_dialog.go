package phone

import (
	"context"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Transfer works with calls that already exist: REFER and NOTIFY are in-dialog requests that
// leave a call's own state alone until the BYE that ends it, so they are kept outside the call
// state machine (phone/call). What transfer needs of a call is its SIP dialog: to send REFER
// and NOTIFY with the dialog's CSeq and route, to check an incoming request's CSeq, and the
// dialog's Call-ID and tags for Replaces (RFC 3891).

// dialogRef is what transfer needs of either side's sipgo dialog session.
type dialogRef struct {
	do   func(ctx context.Context, req *sip.Request) (*sip.Response, error)
	read func(req *sip.Request, tx sip.ServerTransaction) error // CSeq check of an incoming request
	ctx  context.Context                                        // ends with the dialog
	// remote is the far end's target (its Contact): the Request-URI of our requests.
	remote sip.Uri
	// callID and the tags: local is our tag in this dialog, remote the far end's.
	callID, localTag, remoteTag string
}

// transferState is the phone's transfer bookkeeping: the dialog of every answered call, and
// the REFERs we sent whose NOTIFYs we are waiting for.
type transferState struct {
	mu      sync.Mutex
	dialogs map[string]*dialogRef // by our call id
	subs    map[string]*referSub  // by our call id: the transfer in progress on that call
	busy    map[string]bool       // by our call id: a REFER from the far end being carried out
}

// trackDialog remembers an answered call's dialog for transfer; incoming.go and outgoing.go
// call it once the dialog exists. It is forgotten when the dialog ends.
func (p *Phone) trackDialog(c *call, sess any) {
	var d dialogRef
	switch s := sess.(type) {
	case *sipgo.DialogClientSession:
		d = dialogRef{do: s.Do, read: s.ReadRequest, ctx: s.Context(), callID: string(*s.InviteRequest.CallID())}
		if cont := s.InviteResponse.Contact(); cont != nil {
			d.remote = cont.Address
		} else {
			d.remote = s.InviteRequest.Recipient
		}
		d.localTag, _ = s.InviteRequest.From().Params.Get("tag")
		d.remoteTag, _ = s.InviteResponse.To().Params.Get("tag")
	case *sipgo.DialogServerSession:
		d = dialogRef{do: s.Do, read: s.ReadRequest, ctx: s.Context(), callID: string(*s.InviteRequest.CallID())}
		if cont := s.InviteRequest.Contact(); cont != nil {
			d.remote = cont.Address
		}
		d.localTag, _ = s.InviteRequest.To().Params.Get("tag") // sipgo's ReadInvite chose it
		d.remoteTag, _ = s.InviteRequest.From().Params.Get("tag")
	default:
		return
	}
	d.remote.Headers = nil
	x := &p.xfer
	x.mu.Lock()
	if x.dialogs == nil {
		x.dialogs = map[string]*dialogRef{}
	}
	x.dialogs[c.id] = &d
	x.mu.Unlock()
	id := c.id
	context.AfterFunc(d.ctx, func() {
		x.mu.Lock()
		if x.dialogs[id] == &d {
			delete(x.dialogs, id)
		}
		// A transfer still waiting for NOTIFYs on a call that ended waits no more.
		if s := x.subs[id]; s != nil {
			s.done = true
			if s.timer != nil {
				s.timer.Stop()
			}
			delete(x.subs, id)
		}
		x.mu.Unlock()
	})
}

// dialogOf is an answered call's dialog, nil when it has none (ringing, ended). An
// incoming call's dialog is known from its INVITE on, but transfer waits for the answer.
func (p *Phone) dialogOf(id string) *dialogRef {
	p.xfer.mu.Lock()
	d := p.xfer.dialogs[id]
	p.xfer.mu.Unlock()
	if d == nil {
		return nil
	}
	p.mu.Lock()
	c := p.calls[id]
	p.mu.Unlock()
	if c == nil {
		return nil
	}
	c.mu.Lock()
	answered := c.answered
	c.mu.Unlock()
	if !answered || c.ended() {
		return nil
	}
	return d
}

// callByDialog finds the answered call whose dialog has this Call-ID, our tag local and the far end's
// tag remote (how an INVITE with Replaces names the call it replaces).
func (p *Phone) callByDialog(callID, local, remote string) (string, *dialogRef) {
	p.xfer.mu.Lock()
	found := ""
	for id, d := range p.xfer.dialogs {
		if d.callID == callID && d.localTag == local && d.remoteTag == remote {
			found = id
		}
	}
	p.xfer.mu.Unlock()
	if found == "" {
		return "", nil
	}
	if d := p.dialogOf(found); d != nil {
		return found, d
	}
	return "", nil
}

// inDialogRequest is a request of method in dialog d, addressed to its far end; sipgo's
// session fills in From, To, Call-ID, CSeq, Route and Contact when it is sent.
func (p *Phone) inDialogRequest(d *dialogRef, method sip.RequestMethod) *sip.Request {
	req := sip.NewRequest(method, d.remote)
	req.AppendHeader(sip.NewHeader("User-Agent", p.userAgent()))
	return req
}

// transferParser is sipgo's parser without its own Refer-To and Referred-By parsers: sipgo
// drops a whole message whose Refer-To it cannot parse, so the sender of a REFER to a garbage
// URI would get no answer at all and retransmit for 32 s. Kept as plain headers, they reach
// onRefer, which answers 400 (parseReferTo).
func transferParser() *sip.Parser {
	m := map[string]sip.HeaderParser{}
	for k, v := range sip.DefaultHeadersParser() {
		if k != "refer-to" && k != "referred-by" {
			m[k] = v
		}
	}
	return sip.NewParser(sip.WithHeadersParsers(m))
}
