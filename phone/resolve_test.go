package phone

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/emiago/sipgo/sip"
)

type fakeResolver struct {
	srv     map[string][]*net.SRV // "_sip._udp.example.com" -> records
	ips     map[string][]netip.Addr
	srvAsks []string
}

func (f *fakeResolver) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	key := "_" + service + "._" + proto + "." + name
	f.srvAsks = append(f.srvAsks, key)
	if r, ok := f.srv[key]; ok {
		return "", r, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: key, IsNotFound: true}
}

func (f *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f.ips[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestResolveTargetFollowsRFC3263(t *testing.T) {
	r := &fakeResolver{
		srv: map[string][]*net.SRV{
			"_sip._udp.example.com":  {{Target: "sip1.example.com.", Port: 5080}},
			"_sips._tcp.example.com": {{Target: "tls.example.com.", Port: 5071}},
		},
		ips: map[string][]netip.Addr{
			"sip1.example.com": {netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("192.0.2.10")},
			"tls.example.com":  {netip.MustParseAddr("192.0.2.11")},
			"example.com":      {netip.MustParseAddr("192.0.2.1")},
			"v6only.example":   {netip.MustParseAddr("2001:db8::2")},
		},
	}
	cases := []struct {
		uri  string
		t    Transport
		want string
	}{
		{"sip:192.0.2.99", UDP, "192.0.2.99:5060"},
		{"sip:192.0.2.99", TLS, "192.0.2.99:5061"},
		{"sip:[2001:db8::5]:5070", UDP, "[2001:db8::5]:5070"},
		{"sip:example.com", UDP, "192.0.2.10:5080"},       // SRV, then A preferred over AAAA
		{"sip:example.com", TLS, "192.0.2.11:5071"},       // _sips._tcp
		{"sip:example.com", TCP, "192.0.2.1:5060"},        // no _sip._tcp record: A and default port
		{"sip:example.com:5062", UDP, "192.0.2.1:5062"},   // explicit port: no SRV
		{"sip:v6only.example", UDP, "[2001:db8::2]:5060"}, // only AAAA
	}
	for _, c := range cases {
		var u sip.Uri
		if err := sip.ParseUri(c.uri, &u); err != nil {
			t.Fatal(err)
		}
		r.srvAsks = nil
		got, err := resolveTarget(context.Background(), r, u, c.t)
		if err != nil || got != c.want {
			t.Errorf("%s over %v: %q, %v; want %q", c.uri, c.t, got, err, c.want)
		}
		if c.uri == "sip:example.com:5062" && len(r.srvAsks) != 0 {
			t.Errorf("explicit port still asked SRV: %v", r.srvAsks)
		}
	}
	var u sip.Uri
	_ = sip.ParseUri("sip:nowhere.example", &u)
	_, err := resolveTarget(context.Background(), r, u, UDP)
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) {
		t.Fatalf("unresolvable host: %v, want a DNS error", err)
	}
	if e := transportError("register", "nowhere.example", UDP, err); e.Failure != FailureNetwork || e.Reason != "cannot resolve nowhere.example" {
		t.Fatalf("classified as %v %q", e.Failure, e.Reason)
	}
}
