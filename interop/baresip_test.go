package interop

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestCallToBaresip: dialtone calls an auto-answering baresip registered at Kamailio; each side
// hears the other's tone.
func TestCallToBaresip(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 700})
	tone := makeTone(t, 1300, 20, 8000)
	rec := filepath.Join(t.TempDir(), "from-bob.wav")
	code, evs, p := runDialtone(t, 40*time.Second, pw("alice"), append([]string{"call", "sip:bob@127.0.0.1", "--json",
		"--play", tone, "--record", rec, "--duration", "4s"}, adhoc(k, "udp", "alice")...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\nbaresip:\n%s", code, p.transcript(), bob.Log())
	}
	if a, ok := findEvent(evs, "answered"); !ok || a.str("codec") == "" {
		t.Fatalf("no answered event: %v", names(evs))
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip saw no hangup: %v", err)
	}
	assertTone(t, rec, 700, 3)                    // dialtone heard baresip
	assertTone(t, lastRecording(t, bob), 1300, 3) // baresip heard dialtone
}

// TestBaresipCallsDialtone: baresip calls dialtone answer --auto through Kamailio; each side
// hears the other's tone; baresip hangs up.
func TestBaresipCallsDialtone(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	tone := makeTone(t, 1100, 20, 16000)
	rec := filepath.Join(t.TempDir(), "from-bob.wav")
	alice := startDialtone(t, pw("alice"), append([]string{"answer", "--auto", "--json", "--play", tone, "--record", rec}, adhoc(k, "udp", "alice")...)...)
	alice.waitEvent("registered", 20*time.Second)
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), ToneHz: 600})
	if err := bob.Dial("sip:alice@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	in := alice.waitEvent("incoming", 15*time.Second)
	if in.str("from") == "" {
		t.Errorf("incoming event without from: %v", in)
	}
	alice.waitEvent("answered", 10*time.Second)
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("baresip: %v\n%s", err, bob.Log())
	}
	time.Sleep(4 * time.Second) // let audio flow: this is the call itself, not a timing assertion
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	h := alice.waitEvent("hangup", 10*time.Second)
	if h.str("by") != "remote" {
		t.Errorf("hangup by %q, want remote", h.str("by"))
	}
	if code, _ := alice.wait(20 * time.Second); code != 0 {
		t.Fatalf("answer exit %d\n%s", code, alice.transcript())
	}
	assertTone(t, rec, 600, 3)                    // dialtone heard baresip
	assertTone(t, lastRecording(t, bob), 1100, 3) // baresip heard dialtone (a 16 kHz file, resampled)
}
