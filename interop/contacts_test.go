package interop

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestCallAndMessageByContactName: `dialtone contacts add` files baresip under a name, then
// `dialtone call NAME` (typed in another case) reaches that baresip through Kamailio, each side
// hearing the other's tone, `dialtone message NAME TEXT` delivers the text to it, and
// `dialtone load NAME` calls it.
func TestCallAndMessageByContactName(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 700})
	data := []string{"XDG_DATA_HOME=" + t.TempDir()} // the address book the three commands share
	if code, _, p := runDialtone(t, 10*time.Second, data, "contacts", "add", "Bob Builder", "sip:bob@127.0.0.1"); code != 0 {
		t.Fatalf("contacts add: exit %d\n%s", code, p.transcript())
	}

	tone := makeTone(t, 1300, 20, 8000)
	rec := filepath.Join(t.TempDir(), "from-bob.wav")
	code, evs, p := runDialtone(t, 40*time.Second, append(pw("alice"), data...), append([]string{"call", "bob builder", "--json",
		"--play", tone, "--record", rec, "--duration", "3s"}, adhoc(k, "udp", "alice")...)...)
	if code != 0 {
		t.Fatalf("call by name: exit %d\n%s\nbaresip:\n%s", code, p.transcript(), bob.Log())
	}
	a, ok := findEvent(evs, "answered")
	if !ok {
		t.Fatalf("no answered event: %v", names(evs))
	}
	if a.str("peer_name") != "Bob Builder" || !strings.HasPrefix(a.str("peer"), "sip:bob@127.0.0.1") {
		t.Errorf("answered: peer %q, peer_name %q; want Bob Builder's sip:bob@127.0.0.1", a.str("peer"), a.str("peer_name"))
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip saw no hangup: %v", err)
	}
	assertTone(t, rec, 700, 2)                    // dialtone heard baresip
	assertTone(t, lastRecording(t, bob), 1300, 2) // baresip heard dialtone

	const text = "hello Bob, by name"
	if code, _, p := runDialtone(t, 20*time.Second, append(pw("alice"), data...), append([]string{"message", "BOB BUILDER", text, "--json"}, adhoc(k, "udp", "alice")...)...); code != 0 {
		t.Fatalf("message by name: exit %d\n%s", code, p.transcript())
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(bob.Log(), text); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("baresip did not show %q:\n%s", text, bob.Log())
		}
	}

	// `load` takes the name too: one call, answered by that baresip.
	code, evs, p = runDialtone(t, 40*time.Second, append(pw("alice"), data...), append([]string{"load", "Bob Builder", "--calls", "1",
		"--duration", "2s", "--play", tone, "--json"}, adhoc(k, "udp", "alice")...)...)
	if code != 0 {
		t.Fatalf("load by name: exit %d\n%s\nbaresip:\n%s", code, p.transcript(), bob.Log())
	}
	if s, ok := findEvent(evs, "summary"); !ok || s.num("answered") != 1 {
		t.Fatalf("load by name: summary %v (found %v), want 1 call answered\n%s", s, ok, p.transcript())
	}
}
