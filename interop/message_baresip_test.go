package interop

import (
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestMessagesWithBaresip: dialtone -> baresip (the UTF-8 text arrives intact) and baresip ->
// dialtone (printed as message_received), through Kamailio.
func TestMessagesWithBaresip(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	alice := startDialtone(t, pw("alice"), append([]string{"register", "--json"}, adhoc(k, "udp", "alice")...)...)
	alice.waitEvent("registered", 20*time.Second)
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"),
		Contacts: []string{"sip:alice@127.0.0.1"}})

	code, _, p := runDialtone(t, 20*time.Second, pw("alice"), append([]string{"message", "sip:bob@127.0.0.1", utf8Text, "--json"}, adhoc(k, "udp", "alice")...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, p.transcript())
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(bob.Log(), utf8Text) {
		if time.Now().After(deadline) {
			t.Fatalf("baresip did not show %q:\n%s", utf8Text, bob.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}

	if out, err := bob.Command("contact_next", ""); err != nil {
		t.Fatalf("contact_next: %v %s", err, out)
	}
	if out, err := bob.Command("message", "bonjour ✓ from baresip"); err != nil {
		t.Fatalf("message: %v %s", err, out)
	}
	got := alice.waitEvent("message_received", 10*time.Second)
	if got.str("text") != "bonjour ✓ from baresip" || !strings.Contains(got.str("from"), "bob") {
		t.Fatalf("alice got %v", got)
	}
	alice.signal(sigterm)
	alice.wait(15 * time.Second)
}
