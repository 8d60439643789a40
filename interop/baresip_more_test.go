package interop

import (
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestBaresipCancelsBeforeAnswer: baresip calls, dialtone rings (answer after 30 s), baresip
// gives up: dialtone reports the caller's CANCEL.
func TestBaresipCancelsBeforeAnswer(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	alice := startDialtone(t, pw("alice"), append([]string{"answer", "--auto=30s", "--json", "--audio", "null"}, adhoc(k, "udp", "alice")...)...)
	alice.waitEvent("registered", 20*time.Second)
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp")})
	if err := bob.Dial("sip:alice@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	alice.waitEvent("incoming", 15*time.Second)
	if _, err := bob.WaitEvent("CALL_RINGING", 10*time.Second); err != nil {
		t.Fatalf("baresip heard no ringing: %v", err)
	}
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	h := alice.waitEvent("hangup", 10*time.Second)
	if h.str("by") != "remote" || h.num("code") != 487 {
		t.Fatalf("hangup %v, want by remote with 487", h)
	}
	// The one call --count allowed for was never answered: exit 11, like a caller's no-answer.
	if code, _ := alice.wait(15 * time.Second); code != 11 {
		t.Fatalf("answer exit %d, want 11\n%s", code, alice.transcript())
	}
}

// TestBaresipHoldIsAnsweredAndFollowed: baresip puts the call on hold and resumes it (two
// re-INVITEs); dialtone answers both and the call goes on.
func TestBaresipHoldIsAnsweredAndFollowed(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 500})
	trace := t.TempDir() + "/trace.txt"
	p := startDialtone(t, pw("alice"), append([]string{"call", "sip:bob@127.0.0.1", "--json", "--audio", "null", "--duration", "6s", "--sip-trace", trace}, adhoc(k, "udp", "alice")...)...)
	p.waitEvent("answered", 15*time.Second)
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if _, err := bob.Command("hold", ""); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if _, err := bob.Command("resume", ""); err != nil {
		t.Fatal(err)
	}
	code, _ := p.wait(20 * time.Second)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, p.transcript(), bob.Log())
	}
	tr := readFile(t, trace)
	if n := strings.Count(tr, "a=sendonly"); n == 0 {
		t.Fatalf("no hold re-INVITE reached dialtone (baresip log:\n%s)", bob.Log())
	}
	if !strings.Contains(tr, "a=recvonly") {
		t.Fatalf("dialtone did not answer the hold with recvonly:\n%s", tr)
	}
}
