package phone

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/dialtone/dialtone/phone/resolve"
)

func TestTLSNamesLearnsOnlyTLSTargets(t *testing.T) {
	var n tlsNames
	a := netip.MustParseAddrPort("192.0.2.1:5061")
	n.learn(resolve.Query{Host: "example.com"}, []resolve.Target{
		{Transport: resolve.TLS, Host: "sip1.example.com.", Addr: a},
		{Transport: resolve.UDP, Host: "udp.example.com", Addr: a},
	})
	n.learn(resolve.Query{Host: "[2001:db8::1]"}, []resolve.Target{{Transport: resolve.TLS, Host: "2001:db8::1", Addr: netip.MustParseAddrPort("[2001:db8::1]:5061")}})
	want := []string{"example.com", "sip1.example.com", "2001:db8::1"}
	if got := n.namesFor("192.0.2.1"); !slices.Equal(got, want) {
		t.Fatalf("names for an address: %v, want %v", got, want)
	}
	if got := n.namesFor(""); !slices.Equal(got, want) {
		t.Fatalf("names without a server name: %v, want %v", got, want)
	}
	if got := n.namesFor("proxy.example.net"); !slices.Equal(got, []string{"proxy.example.net"}) {
		t.Fatalf("a dialled name is the name: %v", got)
	}
}
