package phone

import (
	"context"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// leg is how one call reaches the network: the sipgo client its requests use, our Contact,
// our local IP for SDP, where its INVITE goes first, and our From identity.
type leg struct {
	client    *sipgo.Client
	contact   sip.Uri
	localIP   string
	dest      string // ip:port of the first hop
	transport Transport
	route     *sip.Uri // outbound proxy, sent as a Route header
	from      sip.Uri
	display   string
}

// legFor prepares the network side of a call to target through acc (nil: direct, no account).
func (p *Phone) legFor(ctx context.Context, stk *stack, acc *account, target sip.Uri) (*leg, error) {
	l := &leg{}
	if acc != nil {
		wire := p.wire(acc.Name)
		contact, dest, err := wire.callContact(ctx)
		if err != nil {
			return nil, err
		}
		l.contact, l.dest, l.transport = contact, dest, acc.Transport
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
		dest, err := resolveTarget(ctx, p.resolver, target, l.transport)
		if err != nil {
			return nil, transportError("call "+target.String(), target.Host, l.transport, err)
		}
		l.dest = dest
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
		l.client, err = sipgo.NewClient(stk.ua, sipgo.WithClientLogger(p.log), sipgo.WithClientNAT(),
			sipgo.WithClientHostname(ip), sipgo.WithClientPort(sock.Port),
			sipgo.WithClientConnectionAddr(sock.String()))
	default:
		if acc == nil {
			return nil, &Error{Op: "call " + target.String(), Failure: FailureConfig,
				Reason: "direct calls over TCP or TLS need an account (use --aor with --transport)"}
		}
		l.localIP = l.contact.Host
		l.client, err = sipgo.NewClient(stk.ua, sipgo.WithClientLogger(p.log))
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}
