package interop

import (
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestHoldEventsWhenBaresipHolds: baresip holds and resumes a `dialtone call --json` through
// Kamailio: dialtone prints "hold" and "resume" with by "remote", "answered" once (a resume
// is not a second answer), and --duration counts from the answer, not from the resume.
func TestHoldEventsWhenBaresipHolds(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 500})
	p := startDialtone(t, pw("alice"), append([]string{"call", "sip:bob@127.0.0.1", "--json", "--audio", "null", "--duration", "6s"}, adhoc(k, "udp", "alice")...)...)
	id := p.waitEvent("answered", 15*time.Second).str("call_id")
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if _, err := bob.Command("hold", ""); err != nil {
		t.Fatal(err)
	}
	if h := p.waitEvent("hold", 10*time.Second); h.str("by") != "remote" || h.str("call_id") != id {
		t.Fatalf("hold event %v, want by remote for %s", h, id)
	}
	time.Sleep(1500 * time.Millisecond)
	if _, err := bob.Command("resume", ""); err != nil {
		t.Fatal(err)
	}
	if r := p.waitEvent("resume", 10*time.Second); r.str("by") != "remote" || r.str("call_id") != id {
		t.Fatalf("resume event %v, want by remote for %s", r, id)
	}
	code, evs := p.wait(20 * time.Second)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, p.transcript())
	}
	out := p.transcript()
	if n := strings.Count(out, `"event":"answered"`); n != 1 {
		t.Fatalf("%d answered events, want 1: a resume is not a second answer\n%s", n, out)
	}
	if strings.Contains(out, `"event":"holding"`) || strings.Contains(out, `"event":"held"`) {
		t.Fatalf("hold states printed as call states; the hold and resume events say them\n%s", out)
	}
	end, ok := findEvent(evs, "hangup")
	if !ok || end.str("by") != "local" {
		t.Fatalf("no local hangup after --duration: %v\n%s", end, p.transcript())
	}
	if d := end.num("duration"); d < 5.5 || d > 7.5 {
		t.Fatalf("call lasted %.1f s, want --duration's 6 s counted from the answer", d)
	}
}
