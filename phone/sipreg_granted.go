package phone

import (
	"time"

	"github.com/emiago/sipgo/sip"
)

// result reads the granted lifetime: our Contact's expires parameter if the registrar
// listed it (the shortest, if twice), else the Expires header, else what we asked for.
//
// A registrar or SBC that rewrites the Contact it stores lists our binding under the address
// it saw the REGISTER come from (our Via's received and rport; over TCP and TLS, where we do
// not ask for rport, received and our user part), or as the only binding of a
// fresh registration; its expires may be shorter than the Expires header or what we asked for
// (NAT-aware SBCs grant 60 s or so, to hear from us often), and a refresh on those let the
// binding lapse, and incoming calls fail, for most of every cycle. Such a binding counts as
// ours. Other devices' bindings of the same account never do: one about to lapse would have
// had us refresh every half second.
func (r *sipRegistrar) result(res *sip.Response, asked time.Duration) regResult {
	out := regResult{Code: int(res.StatusCode), Reason: res.Reason, Expires: asked, Contact: r.contact.String()}
	if asked == 0 {
		return out
	}
	if e := headerSeconds(res, "Expires"); e > 0 {
		out.Expires = e
	}
	contacts := res.GetHeaders("Contact")
	pubHost, pubPort, behind := publicAddress(res.Via(), r.contact.Host, r.contact.Port)
	// Without rport (we ask for it over UDP only) the port the server saw is unknown: over TCP
	// and TLS a binding at the host it saw, under our user part, is ours.
	anyPort := behind && !viaHasRport(res.Via())
	var exact, seen time.Duration // the shortest expires of our binding as we wrote it, as seen
	for _, h := range contacts {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			continue
		}
		e := contactExpires(c)
		if e == 0 {
			continue
		}
		switch {
		case sameHost(c.Address.Host, r.contact.Host) && c.Address.Port == r.contact.Port && c.Address.User == r.contact.User:
			exact = shortest(exact, e)
		case behind && sameHost(c.Address.Host, pubHost) && (c.Address.Port == pubPort || anyPort && c.Address.User == r.contact.User),
			len(contacts) == 1:
			seen = shortest(seen, e)
		}
	}
	switch {
	case exact > 0:
		out.Expires = exact
	case seen > 0:
		out.Expires = min(out.Expires, seen)
	}
	return out
}

// viaHasRport says whether via carries the port the server saw (rport with a value).
func viaHasRport(via *sip.ViaHeader) bool {
	if via == nil {
		return false
	}
	v, ok := via.Params.Get("rport")
	return ok && v != ""
}

// shortest is the shorter of two lifetimes, 0 standing for none yet.
func shortest(a, b time.Duration) time.Duration {
	if a == 0 || b < a {
		return b
	}
	return a
}

// contactExpires is c's expires parameter, 0 when it has none that is a positive number.
func contactExpires(c *sip.ContactHeader) time.Duration {
	v, ok := c.Params.Get("expires")
	if !ok {
		return 0
	}
	return deltaSeconds(v)
}
