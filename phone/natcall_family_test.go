package phone

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone/media"
)

// The SIP socket's public address (STUN at start-up, IPv4) stands for the media socket's only
// in its own family: a call whose media socket is IPv6 advertised the IPv4 NAT's address, and
// the far end's audio went to a port nobody listened on. An IPv4 call still uses it.
func TestPublicMediaKeepsTheMediaSocketsFamily(t *testing.T) {
	p, err := New(Config{ListenAddr: "127.0.0.1:0", KeepAlive: -1})
	if err != nil {
		t.Fatal(err)
	}
	stk := &stack{sipSTUN: netip.MustParseAddrPort("203.0.113.5:40000"), udpAddr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, c := range []struct{ localIP, want, source string }{
		{"::1", "::1", "local"},
		{"127.0.0.1", "203.0.113.5", "stun"},
	} {
		ms, err := media.Open(media.Config{IP: netip.MustParseAddr(c.localIP)})
		if err != nil {
			if c.localIP == "::1" {
				t.Logf("no IPv6 loopback here, the IPv6 case is not run: %v", err)
				continue
			}
			t.Fatal(err)
		}
		m := p.publicMedia(ctx, stk, nil, c.localIP, ms)
		ms.Close()
		if m.IP != c.want || m.Source != c.source {
			t.Errorf("media socket on %s: SDP address %s from %q, want %s from %q", c.localIP, m.IP, m.Source, c.want, c.source)
		}
	}
}
