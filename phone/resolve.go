package phone

import (
	"context"
	"fmt"
	"net"

	"github.com/dialtone/dialtone/phone/resolve"
	"github.com/emiago/sipgo/sip"
)

// resolver locates SIP servers (RFC 3263); *resolve.Resolver is the real one.
type resolver interface {
	Resolve(ctx context.Context, q resolve.Query) ([]resolve.Target, *resolve.Trace, error)
}

// WithResolver replaces the DNS side of server location (NAPTR, SRV, A/AAAA), e.g. with a
// resolver asking a test's own DNS server.
func WithResolver(r *resolve.Resolver) Option {
	return func(p *Phone) error {
		if r == nil {
			return fmt.Errorf("WithResolver: nil resolver")
		}
		p.resolver = r
		return nil
	}
}

// defaultResolver is the resolver New gives a phone when no option chose one: Config's DNS
// server (or resolv.conf's), the phone's clock for the cache.
func (p *Phone) defaultResolver() error {
	if p.resolver != nil {
		return nil
	}
	r, err := resolve.New(resolve.Config{Server: p.cfg.DNSServer, Now: p.clock.Now})
	if err != nil {
		return fmt.Errorf("dns server: %w", err)
	}
	p.resolver = r
	return nil
}

// queryFor is the RFC 3263 question for a server URI reached over t.
func queryFor(uri sip.Uri, t Transport) resolve.Query {
	q := resolve.Query{Host: uri.Host, Port: uri.Port, Secure: uri.Scheme == "sips"}
	switch t {
	case TCP:
		q.Transport = resolve.TCP
	case TLS:
		q.Transport = resolve.TLS
	default:
		q.Transport = resolve.UDP
	}
	if q.Secure {
		q.Transport = resolve.TLS
	}
	return q
}

// resolveTargets is every place to send requests for uri to over t, in the order to try them
// (RFC 3263): an IP address as is; a host name with a port by A/AAAA; otherwise NAPTR, SRV
// (priorities and weights), then A/AAAA with the default port.
func resolveTargets(ctx context.Context, r resolver, uri sip.Uri, t Transport) ([]resolve.Target, error) {
	ts, _, err := r.Resolve(ctx, queryFor(uri, t))
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, &net.DNSError{Err: "no target", Name: uri.Host, IsNotFound: true}
	}
	return ts, nil
}

// resolveTarget is the first of resolveTargets, as ip:port.
func resolveTarget(ctx context.Context, r resolver, uri sip.Uri, t Transport) (string, error) {
	ts, err := resolveTargets(ctx, r, uri, t)
	if err != nil {
		return "", err
	}
	return ts[0].Addr.String(), nil
}

// localIPFor returns the local address the kernel would use to reach target (ip:port).
// A UDP "connect" sends nothing; it only asks the routing table.
func localIPFor(target string) (string, error) {
	c, err := net.Dial("udp", target)
	if err != nil {
		return "", fmt.Errorf("no route to %s: %w", target, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String(), nil
}
