package phone

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/phone/resolve"
	"github.com/emiago/sipgo/sip"
)

// TestDirectRoute: a direct call names its first hop in a Route exactly when the Request-URI
// alone would send a CANCEL elsewhere (sipgo builds it from the Route or the Request-URI).
func TestDirectRoute(t *testing.T) {
	hop := func(s string) resolve.Target { return resolve.Target{Addr: netip.MustParseAddrPort(s)} }
	for _, c := range []struct {
		uri   string
		first resolve.Target
		route bool
	}{
		{"sip:bob@127.0.0.1:5080", hop("127.0.0.1:5080"), false},
		{"sip:bob@127.0.0.1", hop("127.0.0.1:5060"), false},
		{"sip:bob@[::1]:5070", hop("[::1]:5070"), false},
		{"sips:bob@127.0.0.1", resolve.Target{Transport: resolve.TLS, Addr: netip.MustParseAddrPort("127.0.0.1:5061")}, false},
		{"sip:bob@dns.test", hop("127.0.0.1:5060"), true},  // a name: sipgo's resolver, not ours
		{"sip:bob@127.0.0.1", hop("127.0.0.1:5080"), true}, // never so from an IP, but if it were
		{"sip:bob@example.com:5070", hop("192.0.2.1:5070"), true},
	} {
		var u sip.Uri
		if err := sip.ParseUri(c.uri, &u); err != nil {
			t.Fatal(err)
		}
		r := directRoute(u, c.first)
		if (r != nil) != c.route {
			t.Errorf("%s via %s: Route %v, want one: %v", c.uri, c.first.Addr, r, c.route)
		}
		if r != nil && (r.Host != u.Host || r.User != "") {
			t.Errorf("%s: Route %s, want the Request-URI's host", c.uri, r.String())
		}
	}
}

// TestRouteViaIPv6: a first hop at an IPv6 address keeps its brackets in the Route, from which
// sipgo makes the CANCEL's destination (host:port as it is): "::1:5060" cannot be sent to.
func TestRouteViaIPv6(t *testing.T) {
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "bob", Host: "v6.test"})
	l := &leg{route: &sip.Uri{Scheme: "sip", Host: "v6.test"}, dest: "[::1]:5070", transport: UDP}
	addRoute(req, l)
	h, ok := req.GetHeader("Route").(*sip.RouteHeader)
	if !ok {
		t.Fatal("no Route")
	}
	dest := net.JoinHostPort(strings.Trim(h.Address.Host, "[]"), strconv.Itoa(h.Address.Port))
	if h.Address.Host != "[::1]" || dest != "[::1]:5070" {
		t.Fatalf("Route %s: host %q, want [::1] at port 5070", h.Address.String(), h.Address.Host)
	}
	if _, _, err := sip.ParseAddr(h.Address.Host + ":" + strconv.Itoa(h.Address.Port)); err != nil {
		t.Fatalf("the CANCEL's destination from the Route, %s:%d: %v", h.Address.Host, h.Address.Port, err)
	}
}
