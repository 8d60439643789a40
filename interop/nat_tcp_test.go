package interop

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/netlab"
	"github.com/dialtone/dialtone/interop/peers"
)

// TestNATConeTCPWithoutSTUN: over TCP the Contact is the connection, so the registrar's
// Via received cannot move it; but it is still the public IP, and it is what the SDP must
// carry behind a cone NAT when no STUN server is set. A public baresip calls dialtone, which
// registered over TCP from behind the router: tones are heard both ways.
func TestNATConeTCPWithoutSTUN(t *testing.T) {
	t.Parallel()
	n := newNATNet(t, netlab.Cone, natTimeout)
	aor := "sip:alice@" + n.kam.Domain()
	rec := filepath.Join(t.TempDir(), "from-bob.wav")
	alice := startDialtoneOn(t, n.home, natPW("alice"), "answer", "--auto", "--count", "1", "--json",
		"--keepalive", natKeepalive, "--play", makeTone(t, 1300, 20, 8000), "--record", rec,
		"--aor", aor, "--registrar", "sip:"+n.kam.HostPort("tcp"), "--transport", "tcp")
	alice.waitEvent("registered", 20*time.Second)

	bob := peers.StartBaresip(t, peers.BaresipOptions{Host: n.far, IP: "203.0.113.20", User: "bob", Password: natUsers["bob"],
		Registrar: n.kam.HostPort("udp"), ToneHz: 700})
	baresipCallsAnswerer(t, bob, alice, aor)
	assertToneFor(t, "dialtone heard bob", rec, 700)
	assertBaresipHeard(t, bob, 1300, 1)
}
