package interop

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/wav"
	"github.com/dialtone/dialtone/interop/peers"
)

// waitReply returns the next reply line of a dialtone --json, failing after timeout.
func (p *proc) waitReply(cmd string, timeout time.Duration) event {
	p.t.Helper()
	e := p.waitEvent("reply", timeout)
	if e.str("reply") != cmd {
		p.t.Fatalf("reply to %q, want one to %q: %v", e.str("reply"), cmd, e)
	}
	return e
}

func say(t *testing.T, w io.Writer, line string) {
	t.Helper()
	if _, err := fmt.Fprintln(w, line); err != nil {
		t.Fatalf("stdin %q: %v", line, err)
	}
}

// TestCallStdinCommands: `dialtone call --stdin` to baresip takes commands while the call
// runs: mute silences what baresip hears for a while, dtmf reaches baresip as digits, a
// message reaches it too, a bad
// line gets an error reply and the call goes on, hold and resume act once the core has them,
// and hangup ends the call (exit 0).
func TestCallStdinCommands(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 700})
	tone := makeTone(t, 1300, 60, 8000)
	rec := filepath.Join(t.TempDir(), "from-bob.wav")
	p, in := startWithStdin(t, pw("alice"), append([]string{"call", "sip:bob@127.0.0.1", "--stdin", "--json", "--play", tone, "--record", rec}, adhoc(k, "udp", "alice")...)...)
	id := p.waitEvent("answered", 20*time.Second).str("call_id")
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("baresip: %v", err)
	}
	time.Sleep(1500 * time.Millisecond) // tone first

	say(t, in, "mute")
	if r := p.waitReply("mute", 5*time.Second); r["ok"] != true || r.str("call_id") != id {
		t.Fatalf("mute: %v", r)
	}
	time.Sleep(2500 * time.Millisecond) // baresip hears silence meanwhile
	say(t, in, "unmute")
	if r := p.waitReply("unmute", 5*time.Second); r["ok"] != true {
		t.Fatalf("unmute: %v", r)
	}
	time.Sleep(2500 * time.Millisecond) // the tone again: checked before the rest changes the media
	say(t, in, "dtmf 159#")
	if r := p.waitReply("dtmf", 5*time.Second); r["ok"] != true {
		t.Fatalf("dtmf: %v", r)
	}
	eventually(t, 10*time.Second, "baresip receives the digits", func() (bool, string) {
		got := dtmfDigits(bob)
		return got == "159#", fmt.Sprintf("received %q", got)
	})
	const text = "sent during the call ✓"
	say(t, in, "message sip:bob@127.0.0.1 "+text)
	if r := p.waitReply("message", 15*time.Second); r["ok"] != true {
		t.Errorf("message: %v", r)
	}
	eventually(t, 10*time.Second, "baresip shows the message", func() (bool, string) {
		return strings.Contains(bob.Log(), text), "not in baresip's log"
	})
	say(t, in, "launch rockets")
	if r := p.waitReply("launch", 5*time.Second); r["ok"] != false || !strings.Contains(r.str("error"), `unknown command "launch"`) {
		t.Errorf("bad command: %v", r)
	}
	say(t, in, "dtmf 12x")
	if r := p.waitReply("dtmf", 5*time.Second); r["ok"] != false || !strings.Contains(r.str("error"), "not a DTMF digit") {
		t.Errorf("bad digits: %v", r)
	}
	say(t, in, "hold")
	if r := p.waitReply("hold", 10*time.Second); r["ok"] == true {
		if h := p.waitEvent("hold", 10*time.Second); h.str("by") != "local" {
			t.Errorf("hold event %v, want by local", h)
		}
		say(t, in, "resume")
		if r := p.waitReply("resume", 10*time.Second); r["ok"] != true {
			t.Fatalf("resume: %v", r)
		}
		p.waitEvent("resume", 10*time.Second)
	} else if !strings.Contains(r.str("error"), "not supported yet") {
		t.Errorf("hold: %v", r)
	} else {
		t.Log("hold: the core has no Hold yet; the reply says so and the call goes on")
	}
	say(t, in, "hangup")
	if r := p.waitReply("hangup", 5*time.Second); r["ok"] != true {
		t.Fatalf("hangup: %v", r)
	}
	if h := p.waitEvent("hangup", 10*time.Second); h.str("by") != "local" {
		t.Errorf("hangup %v, want by local", h)
	}
	if code, _ := p.wait(20 * time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.transcript())
	}
	assertToneFor(t, "dialtone heard baresip", rec, 700)
	recs, err := bob.Recordings()
	if err != nil || len(recs) == 0 {
		t.Fatalf("baresip recorded nothing: %v", err)
	}
	var heard, total float64 // baresip starts a new recording after a re-INVITE (hold)
	for _, r := range recs {
		heard += toneSeconds(t, r, 1300)
		total += wavSeconds(t, r)
	}
	if heard < 2.5 {
		t.Errorf("baresip heard the tone for %.2f s only", heard)
	}
	if total-heard < 1.5 {
		t.Errorf("baresip heard the tone %.2f s of %.2f s: mute did not silence it for 2.5 s", heard, total)
	}
}

// wavSeconds is a recording's length.
func wavSeconds(t *testing.T, path string) float64 {
	t.Helper()
	samples, rate, err := wav.ReadAll(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return float64(len(samples)) / float64(rate)
}
