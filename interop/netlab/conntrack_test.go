package netlab

import (
	"net/netip"
	"testing"
	"time"
)

func TestParseConntrack(t *testing.T) {
	table := "ipv4     2 udp      17 28 src=192.0.2.10 dst=203.0.113.10 sport=5060 dport=41343 src=203.0.113.10 dst=203.0.113.1 sport=41343 dport=61000 [ASSURED] mark=0 zone=0 use=2\n" +
		"ipv4     2 tcp      6 431999 ESTABLISHED src=192.0.2.11 dst=203.0.113.10 sport=40000 dport=5061 src=203.0.113.10 dst=203.0.113.1 sport=5061 dport=40000 [ASSURED] mark=0 use=1\n" +
		"ipv4     2 icmp     1 29 src=192.0.2.10 dst=203.0.113.10 type=8 code=0 id=1 src=203.0.113.10 dst=203.0.113.1 type=0 code=0 id=1 mark=0 use=1\n" +
		"garbage line\n"
	got := parseConntrack(table)
	want := []Mapping{
		{"udp", netip.MustParseAddrPort("192.0.2.10:5060"), netip.MustParseAddrPort("203.0.113.10:41343"), netip.MustParseAddrPort("203.0.113.1:61000"), 28 * time.Second},
		{"tcp", netip.MustParseAddrPort("192.0.2.11:40000"), netip.MustParseAddrPort("203.0.113.10:5061"), netip.MustParseAddrPort("203.0.113.1:40000"), 431999 * time.Second},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// FuzzParseConntrack: whatever the kernel (or a corrupt read) gives, the parser neither
// panics nor invents entries without two tuples.
func FuzzParseConntrack(f *testing.F) {
	f.Add("ipv4 2 udp 17 28 src=192.0.2.10 dst=203.0.113.10 sport=5 dport=6 src=203.0.113.10 dst=203.0.113.1 sport=6 dport=5 mark=0")
	f.Add("ipv4 2 udp 17 x src=")
	f.Add("ipv4 2 tcp 6 1 src=1 src=2 src=3")
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range parseConntrack(s) {
			if m.Proto != "udp" && m.Proto != "tcp" {
				t.Fatalf("entry of protocol %q", m.Proto)
			}
		}
	})
}
