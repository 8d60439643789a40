package phone

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/dialtone/dialtone/phone/resolve"
)

// A TLS server proves the provider's name, not its address (RFC 5922 section 7): the
// certificate of sip.example.com names sip.example.com (or the domain example.com the
// request was for), not the IP address DNS gave. sipgo dials the IP we picked from our own
// RFC 3263 resolution and would check the certificate against that IP, which fails for every
// real provider (and accepts a certificate issued for an address instead of a name). Go's TLS
// client does not tell the verification callback which address it dialled (an IP server name
// is not sent, and not reported back), so the certificate must name one of the servers this
// phone looked up for TLS: the domain of a configured URI, or an SRV target's host name, or a
// configured IP address. A certificate valid for the name of another of the user's own
// providers would pass at this one's address; that is the price of the library's interface,
// far smaller than checking the address.

// tlsNames is the set of names (and configured addresses) of the TLS servers looked up.
type tlsNames struct {
	mu    sync.Mutex
	names []string
}

// learn records the names of the TLS targets of one resolution: the queried host (the
// domain of the URI, what RFC 5922 asks for; or the address a user configured) and each
// target's own host name (an SRV target: many providers' certificates name that one).
func (n *tlsNames) learn(q resolve.Query, ts []resolve.Target) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, t := range ts {
		if t.Transport != resolve.TLS {
			continue
		}
		for _, name := range []string{q.Host, t.Host} {
			name = strings.TrimSuffix(strings.Trim(name, "[]"), ".")
			if name != "" && !slices.Contains(n.names, name) {
				n.names = append(n.names, name)
			}
		}
	}
}

// namesFor is what a certificate must name: the server name sipgo dialled when it is a name,
// else any TLS server name this phone looked up.
func (n *tlsNames) namesFor(serverName string) []string {
	if serverName != "" && !isIPLiteral(serverName) {
		return []string{serverName}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.names)
}

func isIPLiteral(s string) bool {
	_, err := netip.ParseAddr(strings.Trim(s, "[]"))
	return err == nil
}

// namingResolver is the phone's resolver, learning the names of TLS targets on the way.
type namingResolver struct {
	resolver
	names *tlsNames
}

func (r namingResolver) Resolve(ctx context.Context, q resolve.Query) ([]resolve.Target, *resolve.Trace, error) {
	ts, tr, err := r.resolver.Resolve(ctx, q)
	if err == nil {
		r.names.learn(q, ts)
	}
	return ts, tr, err
}

// clientTLS is the TLS configuration sipgo dials with: base's roots and settings, with the
// certificate verified against the names the target was found under. With verification off
// (tls_insecure) it is base unchanged.
func (p *Phone) clientTLS(base *tls.Config) *tls.Config {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if base != nil {
		conf = base.Clone()
	}
	if conf.InsecureSkipVerify {
		return conf
	}
	roots := conf.RootCAs          // nil: the system's
	conf.InsecureSkipVerify = true // Go's check would use the IP; VerifyConnection below replaces it
	conf.VerifyConnection = func(cs tls.ConnectionState) error {
		return verifyServer(cs, roots, p.tlsNames.namesFor(cs.ServerName))
	}
	return conf
}

// verifyServer checks the chain a server presented against roots and its leaf against any of
// names, with the standard library's errors (the phone explains them to people).
func verifyServer(cs tls.ConnectionState, roots *x509.CertPool, names []string) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tls: the server presented no certificate")
	}
	leaf := cs.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter}); err != nil {
		return err
	}
	if len(names) == 0 {
		return errors.New("tls: no server name to check the certificate against")
	}
	var first error
	for _, name := range names {
		err := leaf.VerifyHostname(name)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}
