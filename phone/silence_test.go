package phone

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone/nat"
)

func TestSilenceWatchWarnsOncePerSilence(t *testing.T) {
	var w silenceWatch
	var warnings int
	for _, since := range []time.Duration{0, time.Second, 5 * time.Second, 6 * time.Second, 20 * time.Second, 0, 3 * time.Second, 5 * time.Second} {
		if _, ok := w.check(since); ok {
			warnings++
		}
	}
	if warnings != 2 {
		t.Fatalf("%d warnings, want one per silent stretch (2)", warnings)
	}
}

func TestSilenceCauseNamesTheNetwork(t *testing.T) {
	local := netip.MustParseAddrPort("192.0.2.10:40000")
	far := netip.MustParseAddrPort("198.51.100.20:5000")
	for _, c := range []struct {
		name string
		ours mediaAddr
		had  bool
		want string
	}{
		{"private address in our SDP", mediaAddr{IP: "192.0.2.10", RTP: 40000, Local: local, Source: "local"}, false, "stun_server"},
		{"symmetric NAT", mediaAddr{IP: "198.51.100.1", RTP: 40000, Local: local, Source: "stun", Kind: nat.Symmetric}, false, "turn_server"},
		{"public address, still nothing", mediaAddr{IP: "198.51.100.1", RTP: 40000, Local: local, Source: "registrar"}, false, "198.51.100.1"},
		{"audio stopped", mediaAddr{IP: "198.51.100.1", Local: local, Source: "stun"}, true, "stopped"},
	} {
		if got := silenceCause(c.ours, far, c.had); !strings.Contains(got, c.want) {
			t.Errorf("%s: %q does not mention %q", c.name, got, c.want)
		}
	}
}

func TestIsPublicAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "192.168.1.2": false, "10.0.0.1": false, "100.64.1.1": false,
		"192.0.2.10": false, "127.0.0.1": false, "2001:db8::1": false, "2a00:1450::1": true,
	} {
		if got := isPublicAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("isPublicAddr(%s) = %v", addr, got)
		}
	}
}
