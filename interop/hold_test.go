package interop

import (
	"os"
	"path/filepath"
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

// TestHoldBeforeTheACK: sipp calls `dialtone answer` and puts the call on hold as soon as it is
// answered, its ACK arriving 300 ms after the re-INVITE (testdata/sipp_uac_hold_before_ack.xml, as
// when the first ACK is lost). dialtone answers the re-INVITE once the ACK is in, 200 with
// a=recvonly, not 491 as before; prints the hold by the far end; ends the call on sipp's BYE.
func TestHoldBeforeTheACK(t *testing.T) {
	t.Parallel()
	d, cmd, dir := answerForSippUAC(t, "sipp_uac_hold_before_ack.xml", 15*time.Second, "--auto")
	if out, err := cmd.CombinedOutput(); err != nil {
		msgs, _ := os.ReadFile(filepath.Join(dir, "msg.log"))
		t.Fatalf("sipp failed (%v): the hold before the ACK was not answered 200 recvonly\n%s\n%s\ndialtone:\n%s",
			err, tail(string(msgs), 3000), tail(string(out), 1000), d.transcript())
	}
	if h := d.waitEvent("hold", 5*time.Second); h.str("by") != "remote" {
		t.Errorf("hold event %v, want by remote", h)
	}
	if code, _ := d.wait(10 * time.Second); code != 0 {
		t.Fatalf("answer exit %d\n%s", code, d.transcript())
	}
}
