package interop

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestCallOverTCPAndTLS: alice calls over TCP, bob answers over TLS, through Kamailio; each
// side's signalling runs on its registration's connection, and the tones cross both ways.
func TestCallOverTCPAndTLS(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	dir := t.TempDir()
	bobRec, aliceRec := filepath.Join(dir, "bob.wav"), filepath.Join(dir, "alice.wav")
	bob := startDialtone(t, pw("bob"), append([]string{"answer", "--auto", "--json", "--play", makeTone(t, 700, 20, 8000), "--record", bobRec, "--tls-ca", k.CAFile()},
		adhoc(k, "tls", "bob")...)...)
	bob.waitEvent("registered", 20*time.Second)
	code, _, p := runDialtone(t, 40*time.Second, pw("alice"), append([]string{"call", "sip:bob@127.0.0.1", "--json",
		"--play", makeTone(t, 1300, 20, 8000), "--record", aliceRec, "--duration", "3s"}, adhoc(k, "tcp", "alice")...)...)
	if code != 0 {
		t.Fatalf("call exit %d\n%s\nbob:\n%s", code, p.transcript(), bob.transcript())
	}
	if c, _ := bob.wait(20 * time.Second); c != 0 {
		t.Fatalf("answer exit %d\n%s", c, bob.transcript())
	}
	assertTone(t, aliceRec, 700, 2)
	assertTone(t, bobRec, 1300, 2)
}
