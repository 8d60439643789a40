package phone

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	lifecycle "github.com/dialtone/dialtone/phone/call"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// A 3xx to our INVITE names where the callee is now (RFC 3261 8.1.3.4, 21.3): call forwarding
// on a redirect server, a PBX's "follow me", a carrier's number portability lookup. The call
// follows it: the INVITE goes again, the same call (Call-ID, From tag, To, the next CSeq), to
// each Contact in turn, best q first, until one answers or says something final. Before, a
// 302 ended the call as declined.

// maxRedirects bounds the targets one call is redirected to. RFC 3261 8.1.3.4 keeps each URI
// in the target set once, which stops two servers redirecting to each other; this bounds a
// server that names a new URI every time.
const maxRedirects = 8

// CallRedirected says an outgoing call goes on to another target, as a 3xx response asked.
// The call's Peer is the new target from then on.
type CallRedirected struct {
	Time    time.Time
	CallID  string
	Account string
	From    string // the target that redirected
	To      string // the target the INVITE goes to now
	Code    int    // the 3xx, e.g. 302
	Reason  string
}

// EventTime implements Event.
func (e CallRedirected) EventTime() time.Time { return e.Time }

// redirectSet is a call's target set from its 3xx responses, best first, each URI once.
type redirectSet struct {
	seen     map[string]bool
	pending  []sip.Uri
	followed int
}

func newRedirectSet(first sip.Uri) *redirectSet {
	return &redirectSet{seen: map[string]bool{redirectKey(first): true}}
}

// redirectKey compares target URIs: scheme, user, host and port, case aside where RFC 3261
// 19.1.4 says so (not the user).
func redirectKey(u sip.Uri) string {
	return strings.ToLower(u.Scheme) + ":" + u.User + "@" + strings.ToLower(u.Host) + ":" + strconv.Itoa(u.Port)
}

// add queues the SIP URIs res's Contacts name, highest q first (RFC 3261 8.1.3.4), that were
// not tried or queued before. Header and method parameters are dropped: a redirect does not
// get to add headers to our INVITE (Replaces, a body) or change its method.
func (s *redirectSet) add(res *sip.Response) {
	type cand struct {
		uri sip.Uri
		q   float64
	}
	var cs []cand
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok || c.Address.Wildcard || c.Address.Host == "" || !validHost(c.Address.Host) {
			continue
		}
		if scheme := strings.ToLower(c.Address.Scheme); scheme != "sip" && scheme != "sips" {
			continue // tel:, mailto:, http: are for a person to follow, not us
		}
		u := *c.Address.Clone()
		u.Headers = nil
		if u.UriParams != nil {
			u.UriParams.Remove("method")
			u.UriParams.Remove("maddr") // the host named is where it goes, not another
		}
		q := 1.0
		if v, ok := c.Params.Get("q"); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
				q = f
			}
		}
		if k := redirectKey(u); !s.seen[k] {
			s.seen[k] = true
			cs = append(cs, cand{u, q})
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return cmp.Compare(b.q, a.q) })
	for _, c := range cs {
		s.pending = append(s.pending, c.uri)
	}
}

// left is how many targets are still to try.
func (s *redirectSet) left() int { return min(len(s.pending), maxRedirects-s.followed) }

// redirecting says whether a final response names targets to follow: 300, 301 and 302. Not
// 305 (its Contact is a proxy to go through, RFC 3261 21.3.5, and following it blindly let a
// callee route our calls) nor 380 (the alternatives are in its body, for a person to read).
func redirecting(code int) bool { return code >= 300 && code <= 302 }

// next is the next target to try, if any is left within maxRedirects.
func (s *redirectSet) next() (sip.Uri, bool) {
	if s.left() == 0 {
		return sip.Uri{}, false
	}
	u := s.pending[0]
	s.pending = s.pending[1:]
	s.followed++
	return u, true
}

// followsRedirect says whether an attempt that ended with code (0: no response, a transport
// failure) moves on to the next redirect target: a 3xx, 4xx or 5xx, or nothing at all (RFC
// 3261 8.1.3.4 and 16.7). Not a 6xx, which speaks for everywhere, nor our own CANCEL's 487.
func followsRedirect(code int) bool {
	return code == 0 || code >= 300 && code < 600 && code != 487
}

// redirectInvite is req, our INVITE, again to uri, a target a 3xx named: the same call, the
// next CSeq. A call through an account goes the same way (its proxy or registrar), so l
// serves it still; a direct call needs the leg to uri's host, which must be reached from the
// same local address as before, since our offer names it. It returns the request and the
// client and leg to send it with.
func (p *Phone) redirectInvite(ctx context.Context, stk *stack, c *call, req *sip.Request, l *leg, uri sip.Uri) (*sip.Request, *leg, error) {
	if strings.EqualFold(req.Recipient.Scheme, "sips") && !strings.EqualFold(uri.Scheme, "sips") {
		// RFC 3261 8.1.3.4: not without telling the user, who asked for TLS all the way.
		return nil, nil, fmt.Errorf("redirect to %s: the call was to a sips: URI, and this one would not be secured", uri.String())
	}
	next := retryOf(req)
	next.Recipient = uri
	if c.account != nil {
		return next, l, nil
	}
	nl, err := p.legFor(ctx, stk, nil, uri)
	if err != nil {
		return nil, nil, err
	}
	if nl.localIP != l.localIP || nl.transport != l.transport {
		return nil, nil, fmt.Errorf("redirect to %s: reached from %s over %s, and the call's media from %s over %s",
			uri.String(), nl.localIP, nl.transport, l.localIP, l.transport)
	}
	if internal(nl.targets[0].Addr.Addr()) && !internal(l.targets[0].Addr.Addr()) {
		// A callee on the internet may not turn our phone into a prober of the user's own
		// network (up to maxRedirects INVITEs to hosts and ports it picks).
		return nil, nil, fmt.Errorf("redirect to %s: a private or local address (%s), from a public target", uri.String(), nl.targets[0].Addr)
	}
	next.SetDestination(nl.dest)
	next.RemoveHeader("Route") // the first target's first hop, if it needed one (directRoute)
	addRoute(next, nl)
	next.RemoveHeader("Contact")
	next.AppendHeader(&sip.ContactHeader{Address: nl.contact})
	return next, nl, nil
}

// noteRedirect tells the machine and the front end that the call goes on to uri, as res (a
// 3xx, or the failure of a redirect target before it) asked.
//
// The history keeps the target the user dialled (redialling goes through the redirect again);
// the call's status shows where it went. The first target's early dialogs are over: an INVITE
// with Replaces naming one no longer picks the call up (pickup.go).
func (p *Phone) noteRedirect(x *outgoingRun, c *call, from, to sip.Uri, code int, reason string) {
	p.log.Info("call redirected", "call", c.id, "from", from.String(), "to", to.String(), "code", code)
	c.mu.Lock()
	if c.status.Dialled == "" {
		c.status.Dialled, c.dialledName = c.status.Peer, c.status.PeerName
	}
	c.status.Peer, c.status.PeerName = to.String(), ""
	c.early.remote = nil
	c.mu.Unlock()
	p.publish(CallRedirected{Time: p.clock.Now(), CallID: c.id, Account: c.accountName(),
		From: from.String(), To: to.String(), Code: code, Reason: reason})
	x.step(lifecycle.Redirected{}) // "calling" again, with the new peer
}

// internal says whether a is loopback, private (RFC 1918, RFC 4193), link-local or
// unspecified: the user's own machine or network.
func internal(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsUnspecified()
}

// dialogUA is the sipgo dialog maker for leg l.
func dialogUA(l *leg) *sipgo.DialogUA {
	return &sipgo.DialogUA{Client: l.client, ContactHDR: sip.ContactHeader{Address: l.contact}}
}
