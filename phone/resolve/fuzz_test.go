package resolve

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// FuzzParseServer: any configured DNS server string gives a dialable host:port or an error.
func FuzzParseServer(f *testing.F) {
	for _, s := range []string{"192.0.2.53", "192.0.2.53:5353", "[2001:db8::1]:53", "::1", "ns.example", "ns.example:0", "[", "a:b:c", "fe80::1%eth0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseServer(s)
		if err != nil {
			return
		}
		if _, _, err := splitHostPort(got); err != nil {
			t.Fatalf("ParseServer(%q) = %q, not host:port: %v", s, got, err)
		}
	})
}

// FuzzAnswer: whatever a DNS server sends, turning it into records, SRV order, NAPTR lookups
// and addresses neither panics nor loses the bounds.
func FuzzAnswer(f *testing.F) {
	for _, rr := range []string{
		"x.example. 300 IN NAPTR 10 50 \"s\" \"SIP+D2T\" \"\" _sip._tcp.x.example.",
		"_sip._udp.x.example. 120 IN SRV 10 5 5060 a.x.example.",
		"_sip._udp.x.example. 120 IN SRV 0 0 0 .",
		"a.x.example. 60 IN A 192.0.2.1",
		"a.x.example. 60 IN AAAA 2001:db8::1",
	} {
		m := new(dns.Msg)
		r, _ := dns.NewRR(rr)
		m.SetQuestion(r.Header().Name, r.Header().Rrtype)
		m.Answer = []dns.RR{r, r}
		b, _ := m.Pack()
		f.Add(b, r.Header().Rrtype)
	}
	res, _ := New(Config{Server: "127.0.0.1", Rand: func(n int) int { return n / 2 }, Now: func() time.Time { return time.Unix(0, 0) }})
	f.Fuzz(func(t *testing.T, b []byte, qtype uint16) {
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			return
		}
		a := res.toAnswer(m, qtype, "127.0.0.1:53")
		if a.expires.Before(a.fetched) || a.expires.Sub(a.fetched) > maxTTL*time.Second {
			t.Fatalf("cache lifetime %v", a.expires.Sub(a.fetched))
		}
		var ns []*dns.NAPTR
		var ss []*dns.SRV
		for _, rr := range a.records {
			switch v := rr.(type) {
			case *dns.NAPTR:
				ns = append(ns, v)
			case *dns.SRV:
				ss = append(ss, v)
			}
			_ = recordOf(rr)
		}
		if l := naptrLookups(ns, ""); len(l) > maxTargets {
			t.Fatalf("%d NAPTR lookups", len(l))
		}
		if got := OrderSRV(ss, res.rand); len(got) != len(ss) {
			t.Fatalf("OrderSRV lost records: %d of %d", len(got), len(ss))
		}
		for _, ip := range addrsOf(a.records) {
			if !ip.IsValid() || ip.Is4In6() {
				t.Fatalf("address %v", ip)
			}
		}
		_, _ = ServiceTransport(strings.ToUpper(string(b)))
	})
}

func splitHostPort(s string) (string, string, error) {
	i := strings.LastIndex(s, ":")
	if i <= 0 || i == len(s)-1 {
		return "", "", errBadHostPort
	}
	return s[:i], s[i+1:], nil
}

var errBadHostPort = &dnsError{"not host:port"}

type dnsError struct{ s string }

func (e *dnsError) Error() string { return e.s }

// FuzzParseHosts: any hosts file gives valid, unmapped addresses under lower-case names.
func FuzzParseHosts(f *testing.F) {
	f.Add("127.0.0.1 localhost\n::1 localhost ip6-localhost\n")
	f.Add("# comment\n192.0.2.1\tpbx.lab PBX # trailing\n::ffff:192.0.2.2 mapped\nfe80::1%eth0 zoned\n")
	f.Fuzz(func(t *testing.T, s string) {
		for name, ips := range parseHosts(strings.NewReader(s)) {
			if name != strings.ToLower(name) || strings.HasSuffix(name, ".") {
				t.Fatalf("name %q", name)
			}
			for _, ip := range ips {
				if !ip.IsValid() || ip.Is4In6() || ip.Zone() != "" {
					t.Fatalf("%s: %v", name, ip)
				}
			}
		}
	})
}
