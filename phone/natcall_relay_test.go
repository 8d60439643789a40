package phone

import (
	"net/netip"
	"testing"

	"github.com/dialtone/dialtone/phone/nat"
)

// TestRelayKind: when the RTP socket's mappings say a relay is needed. The case that once
// went wrong is the commonest setup: one coturn as both STUN and TURN server, where even a
// symmetric NAT shows the same mapping twice (it is one flow), which read as a cone NAT and
// left a symmetric NAT without its relay.
func TestRelayKind(t *testing.T) {
	ap := netip.MustParseAddrPort
	local := ap("192.0.2.10:20000")
	stun, turn := ap("203.0.113.11:3478"), ap("203.0.113.12:3478")
	m1, m2 := ap("203.0.113.1:41000"), ap("203.0.113.1:52000")
	none := netip.AddrPort{}
	for _, c := range []struct {
		name                                string
		stunAddr, stunMapped, turnAddr, via netip.AddrPort
		sip                                 nat.Kind
		want                                nat.Kind
	}{
		{"two servers, same mapping", stun, m1, turn, m1, nat.Unknown, nat.Cone},
		{"two servers, two mappings", stun, m1, turn, m2, nat.Cone, nat.Symmetric},
		{"two servers, no NAT", stun, local, turn, local, nat.Unknown, nat.Open},
		{"one server for both, SIP socket says symmetric", stun, m1, stun, m1, nat.Symmetric, nat.Symmetric},
		{"one server for both, SIP socket says cone", stun, m1, stun, m1, nat.Cone, nat.Cone},
		{"one server for both, nothing else known", stun, m1, stun, m1, nat.Unknown, nat.Symmetric},
		{"one server for both, no NAT", stun, local, stun, local, nat.Symmetric, nat.Open},
		// One host, STUN on 3478 and TURN on 443: an address-dependent NAT maps both alike.
		{"one host, two ports, nothing else known", stun, m1, ap("203.0.113.11:443"), m1, nat.Unknown, nat.Symmetric},
		{"one host, two ports, SIP socket says cone", stun, m1, ap("203.0.113.11:443"), m1, nat.Cone, nat.Cone},
		{"no STUN server, behind NAT", none, none, turn, m1, nat.Unknown, nat.Symmetric},
		{"no STUN server, SIP socket says cone", none, none, turn, m1, nat.Cone, nat.Cone},
		{"no STUN server, no NAT", none, none, turn, local, nat.Unknown, nat.Open},
	} {
		if got := relayKind(local, c.stunAddr, c.stunMapped, c.turnAddr, c.via, c.sip); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
