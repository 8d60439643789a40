package interop

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestTUILadder drives the real binary in tmux against Kamailio and baresip: a call to bob
// (who rings, then answers), hung up with h; L opens the SIP ladder pane, the call's dialog is
// selected and its ladder shows INVITE, 180 Ringing, 200 OK, ACK and BYE in that order, with
// the arrows pointing the right way; Enter Enter shows the INVITE in full with its SDP; Esc
// goes back out level by level and closes the pane.
func TestTUILadder(t *testing.T) {
	t.Parallel()
	pa := peers.StartPulseAudio(t)
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp")})
	logf := filepath.Join(t.TempDir(), "tui.log")
	env := append(pa.Env(), "DIALTONE_PASSWORD="+users["alice"], "XDG_CONFIG_HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir(), "TERM=xterm-256color")
	s := startTmux(t, 120, 40, env, "--aor", "sip:alice@127.0.0.1", "--registrar", "sip:"+k.HostPort("udp"), "--log-file", logf)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- tui log ---\n%s\n--- bob ---\n%s", readIfAny(logf), bob.Log())
		}
	})
	s.waitScreen(`cli registered`, 20*time.Second)

	s.keys("d")
	s.text("sip:bob@127.0.0.1")
	s.keys("Enter")
	if _, err := bob.WaitEvent("CALL_INCOMING", 15*time.Second); err != nil {
		t.Fatalf("baresip: %v\n%s", err, s.screen())
	}
	time.Sleep(300 * time.Millisecond) // a moment of ringing: the 180 before the 200
	if err := bob.Answer(); err != nil {
		t.Fatal(err)
	}
	s.waitScreen(`answered`, 10*time.Second)
	s.keys("h")
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("h did not end the call: %v\n%s", err, s.screen())
	}

	// The BYE's 200 is the last message: wait for it in the ladder.
	s.keys("L")
	screen := s.waitScreen(`(?s)SIP ladder: INVITE sip:bob@127\.0\.0\.1.*BYE.*200 OK`, 10*time.Second)
	var labels []string
	arrowRx := regexp.MustCompile(`[+-]\d+\.\d{3}s│(─([A-Z]+[^─]*)─+→|←─+─([^─]+)─)│`)
	for _, m := range arrowRx.FindAllStringSubmatch(screen, -1) {
		if m[2] != "" {
			labels = append(labels, "→ "+m[2])
		} else {
			labels = append(labels, "← "+m[3])
		}
	}
	// Kamailio may challenge the INVITE (407, ACK, INVITE again) and sends 100 Trying: the
	// required ones must appear in this order, whatever comes between. Reason phrases are
	// the peer's ("200 Answering"); the offer and the answer carry SDP.
	want := []string{"→ INVITE (SDP)", "← 180 ", "← 200 ", "→ ACK", "→ BYE", "← 200 "}
	i := 0
	for _, l := range labels {
		if i < len(want) && strings.HasPrefix(l, want[i]) && (i != 2 || strings.HasSuffix(l, "(SDP)")) {
			i++
		}
	}
	if i != len(want) {
		t.Fatalf("ladder %q lacks %q in order (found the first %d)\n%s", labels, want, i, screen)
	}
	if strings.Contains(screen, "inline:") && !strings.Contains(screen, "<key hidden>") {
		t.Fatalf("an SRTP key on screen:\n%s", screen)
	}

	// Enter: the ladder; Enter: the first message (the INVITE) in full, SDP included.
	s.keys("Enter")
	s.keys("Enter")
	s.waitScreen(`(?s)SIP sent INVITE \(1/\d+\).*INVITE sip:bob@127\.0\.0\.1.*Content-Type: application/sdp.*m=audio \d+ RTP/`, 5*time.Second)
	s.keys("Escape")
	time.Sleep(200 * time.Millisecond) // a lone Esc, not the start of an Alt chord
	s.keys("Escape")
	time.Sleep(200 * time.Millisecond)
	s.keys("Escape")
	s.waitScreen(`Calls`, 5*time.Second)
	if strings.Contains(s.screen(), "SIP ladder") {
		t.Fatalf("Esc did not close the ladder:\n%s", s.screen())
	}
}
