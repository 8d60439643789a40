package phone

import (
	"cmp"
	"context"
	"net/netip"
	"slices"
	"strings"

	"github.com/dialtone/dialtone/phone/resolve"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// leg is how one call reaches the network: the sipgo client its requests use, our Contact,
// our local IP for SDP, where its INVITE goes first, and our From identity.
type leg struct {
	client  *sipgo.Client
	contact sip.Uri
	localIP string
	dest    string // ip:port of the first hop: targets[0]
	// targets are the first hop and its fallbacks in RFC 3263 order; a request that gets no
	// answer (or a 503) from one moves to the next before any provisional response.
	targets   []resolve.Target
	transport Transport
	route     *sip.Uri // the first hop named in a Route: the outbound proxy or registrar, or a direct call's (directRoute)
	from      sip.Uri
	display   string
}

// directRoute is the Route a direct call to target needs when its first hop (RFC 3263: an
// SRV record's host and port, a name's address) is not the Request-URI's own IP and port:
// sipgo sends the CANCEL by the INVITE's Route, or else to the Request-URI's host as its own
// resolver sees it (dns.test:5060 for a domain whose SRV says sip1.dns.test:5080), so a call
// hung up while ringing was never cancelled where it rang. The Route names the first hop, and
// routeVia keeps it on the hop a failover moves to. nil when the Request-URI says it already.
func directRoute(target sip.Uri, first resolve.Target) *sip.Uri {
	port := cmp.Or(target.Port, resolve.DefaultPort(first.Transport))
	if ip, err := netip.ParseAddr(strings.Trim(target.Host, "[]")); err == nil &&
		netip.AddrPortFrom(ip.Unmap(), uint16(port)) == netip.AddrPortFrom(first.Addr.Addr().Unmap(), first.Addr.Port()) {
		return nil
	}
	return &sip.Uri{Scheme: target.Scheme, Host: target.Host, Port: target.Port}
}

// legFor prepares the network side of a call to target through acc (nil: direct, no account).
func (p *Phone) legFor(ctx context.Context, stk *stack, acc *account, target sip.Uri) (*leg, error) {
	l := &leg{}
	if acc != nil {
		wire := p.wire(acc.Name)
		contact, targets, err := wire.callTargets(ctx)
		if err != nil {
			return nil, err
		}
		l.contact, l.targets, l.transport = contact, targets, acc.Transport
		l.from, l.display = acc.aor, acc.DisplayName
		// The first hop is named in a Route header, not only as a destination: sipgo builds
		// the CANCEL from the INVITE's Route set, so without it a CANCEL would go to the
		// Request-URI's host instead of our proxy.
		l.route = acc.proxy
		if l.route == nil {
			l.route = &acc.registrar
		}
	} else {
		l.transport = UDP
		if tp, ok := target.UriParams.Get("transport"); ok {
			t, err := ParseTransport(strings.ToLower(tp))
			if err != nil {
				return nil, &Error{Op: "call " + target.String(), Failure: FailureConfig, Reason: err.Error()}
			}
			l.transport = t
		}
		if target.Scheme == "sips" {
			l.transport = TLS
		}
		targets, err := resolveTargets(ctx, p.resolver, target, l.transport)
		if err != nil {
			return nil, transportError("call "+target.String(), target.Host, l.transport, err)
		}
		l.targets = targets
		l.route = directRoute(target, targets[0])
	}
	l.dest = l.targets[0].Addr.String()
	if l.transport == UDP {
		// One UDP socket (and one local address in SDP and Contact) serves the call: keep
		// the fallbacks of the first target's address family.
		first := l.targets[0].Addr.Addr().Is4()
		l.targets = slices.DeleteFunc(slices.Clone(l.targets), func(t resolve.Target) bool { return t.Addr.Addr().Is4() != first })
	}
	var err error
	switch l.transport {
	case UDP:
		sock := stk.udpFor(l.dest)
		ip := sock.IP.String()
		if sock.IP.IsUnspecified() {
			if ip, err = localIPFor(l.dest); err != nil {
				return nil, transportError("call "+target.String(), l.dest, UDP, err)
			}
		}
		l.localIP = ip
		if acc == nil {
			l.contact = sip.Uri{Scheme: "sip", User: "dialtone", Host: ip, Port: sock.Port}
			l.from = sip.Uri{Scheme: "sip", User: "dialtone", Host: ip}
		}
		// Behind NAT with no registration to tell us better, STUN's view of the SIP socket is
		// the only Contact the far end can send its requests (ACK, BYE) to.
		if pub := stk.sipSTUN; pub.IsValid() && sock == stk.udpAddr && l.contact.Host == ip && l.contact.Port == sock.Port {
			l.contact.Host, l.contact.Port = pub.Addr().String(), int(pub.Port())
			if acc == nil {
				l.from.Host = pub.Addr().String()
			}
		}
		conn := sock.String()
		l.client, err = stk.clients.get(stk.ua, stk.sipLog, clientKey{host: ip, port: sock.Port, connAddr: conn},
			sipgo.WithClientNAT(), sipgo.WithClientHostname(ip), sipgo.WithClientPort(sock.Port),
			sipgo.WithClientConnectionAddr(conn))
	default:
		if acc == nil {
			return nil, &Error{Op: "call " + target.String(), Failure: FailureConfig,
				Reason: "direct calls over TCP or TLS need an account (use --aor with --transport)"}
		}
		l.localIP = l.contact.Host
		l.client, err = stk.clients.get(stk.ua, stk.sipLog, clientKey{})
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}
