package interop

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/netlab"
	"github.com/dialtone/dialtone/interop/peers"
)

// TestNATTCPFlowBlackholedComesBack: dialtone behind a home router registers over TCP; then
// the router silently loses the connection (an nft rule in the router's own namespace drops
// both directions of it, as a router that rebooted or forgot its TCP state does: no FIN, no
// RST, only silence). The unanswered CRLF ping gives the flow away after 10 s; dialtone
// registers on a new connection through the router, the old binding is gone, and a call
// from the public side arrives down the new connection.
func TestNATTCPFlowBlackholedComesBack(t *testing.T) {
	t.Parallel()
	n := newNATNet(t, netlab.Cone, natTimeout)
	// Media behind the NAT needs our public address in SDP; over TCP only STUN tells it.
	stun := peers.StartCoturn(t, peers.CoturnOptions{Host: n.srv, ListenIPs: []string{"203.0.113.30"}})
	aor := "sip:alice@" + n.kam.Domain()
	logFile := filepath.Join(t.TempDir(), "dialtone.log")
	rec := filepath.Join(t.TempDir(), "from-bob.wav")
	args := []string{"answer", "--auto", "--count", "1", "--json", "--keepalive", natKeepalive,
		"--log-file", logFile, "--log-level", "debug", "--play", makeTone(t, 1300, 20, 8000), "--record", rec,
		"--aor", aor, "--registrar", "sip:" + n.kam.HostPort("tcp"), "--transport", "tcp", "--stun-server", stun.Addr(0)}
	alice := startDialtoneOn(t, n.home, natPW("alice"), args...)
	oldFlow := contactHostPort(t, alice.waitEvent("registered", 20*time.Second).str("contact"))
	eventually(t, 10*time.Second, "a keep-alive answered by Kamailio through the NAT", func() (bool, string) {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), "keep-alive answered"), "no answered keep-alive in the log"
	})

	// The router forgets the connection: its packets die there, both ways, without a word.
	_, port, _ := net.SplitHostPort(oldFlow)
	n.router.Run("nft", "add", "table", "ip", "flowtest")
	n.router.Run("nft", "add", "chain", "ip", "flowtest", "blackhole", "{ type filter hook forward priority -10; policy accept; }")
	n.router.Run("nft", "add", "rule", "ip", "flowtest", "blackhole", "ip", "saddr", "192.0.2.10", "tcp", "sport", port, "drop")
	n.router.Run("nft", "add", "rule", "ip", "flowtest", "blackhole", "ip", "daddr", "192.0.2.10", "tcp", "dport", port, "drop")
	droppedAt := time.Now()
	recovering := alice.waitEvent("recovering", 20*time.Second)
	noticed := time.Since(droppedAt)
	if !strings.Contains(recovering.str("reason"), "did not answer a keep-alive") {
		t.Errorf("recovering reason %q, want the unanswered keep-alive", recovering.str("reason"))
	}
	again := alice.waitEvent("registered", 15*time.Second)
	t.Logf("blackholed: recovering after %v, registered again after %v", noticed.Round(time.Millisecond),
		time.Since(droppedAt).Round(time.Millisecond))
	if newFlow := contactHostPort(t, again.str("contact")); newFlow == oldFlow {
		t.Fatalf("registered again on the dead connection %s", newFlow)
	}
	eventually(t, 5*time.Second, "one binding at the provider", func() (bool, string) {
		bs, err := n.kam.Bindings(aor)
		if err != nil {
			return false, err.Error()
		}
		return len(bs) == 1 && contactHostPort(t, bs[0].Address) == contactHostPort(t, again.str("contact")), bindingList(bs)
	})

	bob := peers.StartBaresip(t, peers.BaresipOptions{Host: n.far, IP: "203.0.113.20", User: "bob", Password: natUsers["bob"],
		Registrar: n.kam.HostPort("udp"), ToneHz: 700})
	baresipCallsAnswerer(t, bob, alice, aor)
	assertToneFor(t, "dialtone heard bob", rec, 700)
	assertBaresipHeard(t, bob, 1300, 1)
}

func bindingList(bs []peers.Binding) string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Address+" received="+b.Received)
	}
	return strings.Join(out, ", ")
}
