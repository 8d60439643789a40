package phone

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone/resolve"
	"github.com/emiago/sipgo/sip"
	"github.com/miekg/dns"
)

// startTestDNS serves the given records (zone-file lines) from an in-process DNS server
// (miekg/dns's own) on a free loopback UDP port; unknown names get NXDOMAIN.
func startTestDNS(t *testing.T, records ...string) string {
	t.Helper()
	zone := map[string][]dns.RR{}
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("record %q: %v", s, err)
		}
		k := strings.ToLower(rr.Header().Name) + " " + dns.TypeToString[rr.Header().Rrtype]
		zone[k] = append(zone[k], rr)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		m.Answer = zone[strings.ToLower(q.Name)+" "+dns.TypeToString[q.Qtype]]
		if len(m.Answer) == 0 {
			m.Rcode = dns.RcodeNameError
			for k := range zone {
				if strings.HasPrefix(k, strings.ToLower(q.Name)+" ") {
					m.Rcode = dns.RcodeSuccess // the name exists, not this type
				}
			}
		}
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.ActivateAndServe() })
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("test DNS server did not start")
	}
	t.Cleanup(func() { _ = srv.Shutdown(); wg.Wait() })
	return pc.LocalAddr().String()
}

func testResolver(t *testing.T, server string) *resolve.Resolver {
	t.Helper()
	r, err := resolve.New(resolve.Config{Server: server, Timeout: time.Second, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestResolveTargetFollowsRFC3263(t *testing.T) {
	r := testResolver(t, startTestDNS(t,
		"_sip._udp.example.com. 60 IN SRV 10 0 5080 sip1.example.com.",
		"_sips._tcp.example.com. 60 IN SRV 10 0 5071 tls.example.com.",
		"sip1.example.com. 60 IN AAAA 2001:db8::1",
		"sip1.example.com. 60 IN A 192.0.2.10",
		"tls.example.com. 60 IN A 192.0.2.11",
		"example.com. 60 IN A 192.0.2.1",
		"v6only.example. 60 IN AAAA 2001:db8::2",
	))
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
		{"sips:example.com", UDP, "192.0.2.11:5071"},      // a sips URI is TLS whatever the account says
		{"sip:example.com", TCP, "192.0.2.1:5060"},        // no _sip._tcp record: A and default port
		{"sip:example.com:5062", UDP, "192.0.2.1:5062"},   // explicit port: no SRV
		{"sip:v6only.example", UDP, "[2001:db8::2]:5060"}, // only AAAA
	}
	for _, c := range cases {
		var u sip.Uri
		if err := sip.ParseUri(c.uri, &u); err != nil {
			t.Fatal(err)
		}
		got, err := resolveTarget(context.Background(), r, u, c.t)
		if err != nil || got != c.want {
			t.Errorf("%s over %v: %q, %v; want %q", c.uri, c.t, got, err, c.want)
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

func TestNewRejectsABadDNSServer(t *testing.T) {
	if _, err := New(Config{DNSServer: "127.0.0.1:99999"}); err == nil || !strings.Contains(err.Error(), "dns server") {
		t.Fatalf("New with DNS server port 99999: %v", err)
	}
}
