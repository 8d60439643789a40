package interop

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestTLSCertificateNameIsTheProviders: the phone resolves the registrar's name itself and
// sipgo dials the address, yet the certificate must prove the name (RFC 5922), not the IP.
// Kamailio's test certificate names localhost and 127.0.0.1. Through dnsmasq, localhost
// registers; sip.example.test, which resolves to the same address but is not on the
// certificate, is refused with exit 4 and a hostname error, although the IP alone would pass.
func TestTLSCertificateNameIsTheProviders(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	d := peers.StartDnsmasq(t, peers.DnsmasqOptions{Hosts: map[string][]string{
		"localhost":        {"127.0.0.1"},
		"sip.example.test": {"127.0.0.1"},
	}})
	register := func(host string) (int, []event, *proc) {
		return runDialtone(t, 30*time.Second, pw("alice"), "register", "--once", "--json",
			// Kamailio serves domain 127.0.0.1 only: the name goes into the outbound proxy, the
			// server the phone looks up and connects to.
			"--aor", "sip:alice@127.0.0.1", "--registrar", "sip:127.0.0.1", "--outbound-proxy", fmt.Sprintf("sip:%s:%d", host, k.Port("tls")),
			"--transport", "tls", "--tls-ca", k.CAFile(), "--dns-server", d.Addr())
	}
	if code, evs, p := register("localhost"); code != 0 {
		t.Fatalf("localhost is on the certificate: exit %d %v\n%s", code, names(evs), p.transcript())
	}
	code, evs, p := register("sip.example.test")
	if code != 4 {
		t.Fatalf("sip.example.test is not on the certificate: exit %d, want 4\n%s", code, p.transcript())
	}
	e, ok := findEvent(evs, "registration_failed")
	if !ok || !strings.Contains(e.str("error"), "sip.example.test") {
		t.Fatalf("the failure does not name the host the certificate lacks: %v\n%s", e, p.transcript())
	}
}
