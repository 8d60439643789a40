package sdp

import (
	"net/netip" // tests only: the import rule covers the package, not its tests
	"strings"
	"testing"
)

func TestAddrType(t *testing.T) {
	for s, want := range map[string]string{
		"192.0.2.1": "IP4", "0.0.0.0": "IP4", "255.255.255.255": "IP4",
		"2001:db8::1": "IP6", "::": "IP6", "::1": "IP6", "::ffff:192.0.2.1": "IP6", "1:2:3:4:5:6:7:8": "IP6",
		"1:2:3:4:5:6:192.0.2.1": "IP6", "FE80::ABCD": "IP6",
		"": "", "256.1.1.1": "", "01.2.3.4": "", "1.2.3": "", "1.2.3.4.5": "", "example.com": "",
		"[::1]": "", "fe80::1%eth0": "", "1:2:3:4:5:6:7:8:9": "", "1::2::3": "", ":::": "", "12345::": "",
		"1:2:3:4:5:6:7:192.0.2.1": "", "::1.2.3": "", "224.2.17.12/127": "",
	} {
		if got := addrType(s); got != want {
			t.Errorf("addrType(%q) = %q, want %q", s, got, want)
		}
	}
}

// FuzzAddrType checks the hand-written IP literal parser against net/netip.
func FuzzAddrType(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "::", "2001:db8::1", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8", "1.2.3.04", "fe80::1%1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := netip.ParseAddr(s)
		want := ""
		switch {
		case err != nil || a.Zone() != "" || strings.Contains(s, "%"):
		case a.Is4():
			want = "IP4"
		default:
			want = "IP6"
		}
		if got := addrType(s); got != want {
			t.Errorf("addrType(%q) = %q, netip says %q", s, got, want)
		}
		if want != "" && isUnspecified(s) != a.IsUnspecified() {
			t.Errorf("isUnspecified(%q) = %v", s, isUnspecified(s))
		}
	})
}
