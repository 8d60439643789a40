package phone

import (
	"context"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// The far end's target (its Contact: the Request-URI of our requests in the dialog) is the
// one of the INVITE or its 2xx until a target refresh replaces it (RFC 3261 12.2.1.2, 12.2.2):
// a re-INVITE or UPDATE of the far end's that we take, or the 2xx to ours. A PBX or B2BUA that
// re-anchors a call (after a transfer, or moving its media) sends one; our later re-INVITE,
// REFER, NOTIFY and BYE went on to the old Contact.

// refreshTarget takes cont (a target refresh's Contact, nil when it has none) as the far
// end's target from now on.
func (c *call) refreshTarget(cont *sip.ContactHeader) {
	if cont == nil || cont.Address.Host == "" {
		return
	}
	u := *cont.Address.Clone()
	u.Headers = nil
	c.mu.Lock()
	c.target = u
	c.mu.Unlock()
}

// targetOr is the far end's refreshed target, or first (the dialog's own) when none came.
func (c *call) targetOr(first sip.Uri) sip.Uri {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.target.Host == "" {
		return first
	}
	return c.target
}

// bye ends dialog d: sipgo's own BYE goes to the dialog's first target, so after a target
// refresh the BYE is built here, to the new one, on the INVITE's transport.
func (c *call) bye(ctx context.Context, d dialog) error {
	c.mu.Lock()
	target := c.target
	c.mu.Unlock()
	var invite *sip.Request
	var write func(context.Context, *sip.Request) error
	switch s := d.(type) {
	case *sipgo.DialogClientSession:
		invite, write = s.InviteRequest, s.WriteBye
	case *sipgo.DialogServerSession:
		invite, write = s.InviteRequest, s.WriteBye
	}
	if target.Host == "" || write == nil {
		return d.Bye(ctx)
	}
	req := sip.NewRequest(sip.BYE, target)
	req.SetTransport(invite.Transport())
	return write(ctx, req)
}
