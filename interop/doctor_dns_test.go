package interop

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestDoctorDNSFailover: the registrar is a name; NAPTR points to SRV, whose first target (by
// priority) is dead and whose second is Kamailio. The report shows every record with its TTL,
// both targets, the dead one named in a warning, and REGISTER works by failing over: exit 0.
func TestDoctorDNSFailover(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadPort := dead.LocalAddr().(*net.UDPAddr).Port
	dead.Close() // nothing listens: ICMP port unreachable
	// Kamailio counts "localhost" as itself (it is the reverse name of its listening address),
	// so the name works as a registrar domain; the records live in dnsmasq only.
	dns := peers.StartDnsmasq(t, peers.DnsmasqOptions{
		NAPTR: []peers.NAPTRRecord{{Name: "localhost", Order: 10, Preference: 10, Flags: "S", Service: "SIP+D2U", Replacement: "_sip._udp.localhost"}},
		SRV: []peers.SRVRecord{
			{Name: "_sip._udp.localhost", Target: "dead.example.test", Port: deadPort, Priority: 10},
			{Name: "_sip._udp.localhost", Target: "sip.example.test", Port: k.Port("udp"), Priority: 20},
		},
		Hosts: exampleHost,
	}).Addr()
	r := runDoctor(t, pw("alice"), "--aor", "sip:alice@127.0.0.1", "--registrar", "sip:localhost", "--dns-server", dns)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.p.transcript())
	}
	d := r.check(t, "dns")
	recs, _ := facts(d)["records"].([]any)
	var text []string
	for _, x := range recs {
		m := x.(map[string]any)
		text = append(text, fmt.Sprintf("%v %v %v ttl=%v", m["type"], m["name"], m["value"], m["ttl"]))
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"NAPTR localhost", "SRV _sip._udp.localhost", fmt.Sprint(deadPort), fmt.Sprint(k.Port("udp")), "A sip.example.test 127.0.0.1"} {
		if !strings.Contains(all, want) {
			t.Errorf("DNS records lack %q:\n%s", want, all)
		}
	}
	for _, line := range text {
		// dnsmasq answers "localhost" itself (TTL 0); every record of the test's has its TTL.
		if !strings.Contains(line, "no answer") && !strings.HasPrefix(line, "A localhost ") && !strings.HasSuffix(line, "ttl=60") {
			t.Errorf("record without dnsmasq's TTL of 60 s: %s", line)
		}
	}
	tp := r.check(t, "transport-udp")
	if tp.str("status") != "warn" || !strings.Contains(tp.str("verdict"), fmt.Sprintf("127.0.0.1:%d", deadPort)) || !strings.Contains(tp.str("verdict"), "1 of 2") {
		t.Fatalf("transport-udp: %v", tp)
	}
	if reg := r.check(t, "register"); reg.str("status") != "ok" || facts(reg).num("code") != 200 {
		t.Fatalf("register did not fail over: %v", reg)
	}
}

// exampleHost puts the test names on loopback.
var exampleHost = map[string][]string{"sip.example.test": {"127.0.0.1"}, "dead.example.test": {"127.0.0.1"}}

// TestDoctorDNSUnknownName: a registrar name nobody knows is exit 4 with "cannot be resolved".
func TestDoctorDNSUnknownName(t *testing.T) {
	t.Parallel()
	dns := peers.StartDnsmasq(t, peers.DnsmasqOptions{Hosts: exampleHost}).Addr()
	r := runDoctor(t, pw("alice"), "--aor", "sip:alice@nowhere.example.test", "--dns-server", dns)
	if r.code != 4 {
		t.Fatalf("exit %d\n%s", r.code, r.p.transcript())
	}
	d := r.check(t, "dns")
	if d.str("status") != "fail" || !strings.Contains(d.str("verdict"), "nowhere.example.test cannot be resolved") {
		t.Fatalf("dns: %v", d)
	}
}

// TestDoctorTLSNameMismatch: the registrar is reached by a name its certificate does not
// carry (Kamailio's is for localhost and 127.0.0.1). The chain is trusted (--tls-ca) but the
// TLS check fails naming both (RFC 5922: the certificate must match the SIP domain): exit 4.
func TestDoctorTLSNameMismatch(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	dns := peers.StartDnsmasq(t, peers.DnsmasqOptions{Hosts: exampleHost}).Addr()
	r := runDoctor(t, pw("alice"), "--aor", "sip:alice@127.0.0.1", "--registrar", fmt.Sprintf("sip:sip.example.test:%d", k.Port("tls")),
		"--transport", "tls", "--tls-ca", k.CAFile(), "--dns-server", dns)
	if r.code != 4 {
		t.Fatalf("exit %d\n%s", r.code, r.p.transcript())
	}
	c := r.check(t, "tls")
	if c.str("status") != "fail" || !strings.Contains(c.str("verdict"), "localhost, 127.0.0.1, not for sip.example.test") ||
		!strings.Contains(c.str("fix"), "name") {
		t.Fatalf("tls: %v", c)
	}
}
