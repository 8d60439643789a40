package interop

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestUpdateWhileRingingKeepsTheCall: a callee that sends UPDATE in the early dialog while it
// rings, as Asterisk does for a connected-line update (no SDP), gets 200; one with an offer
// gets 491 (our INVITE's offer has no reliable answer yet); the call is then answered and the
// audio flows: dialtone's tone comes back echoed. Before, both UPDATEs got 481, on which
// PJSIP (Asterisk) ends the dialog: the call was cut off as it was answered.
func TestUpdateWhileRingingKeepsTheCall(t *testing.T) {
	t.Parallel()
	s := peers.StartSippUAS(t, peers.SippOptions{Scenario: "testdata/sipp_uas_update_early.xml", RTPEcho: true})
	rec := filepath.Join(t.TempDir(), "echo.wav")
	code, evs, p := runDialtone(t, 30*time.Second, nil, "call", s.URI("bob"), "--json", "--audio", "null",
		"--play", makeTone(t, 650, 10, 8000), "--record", rec, "--ring-timeout", "10s")
	if code != 0 {
		t.Fatalf("exit %d, want 0 (answered, then hung up by the far end)\n%s\nsipp:\n%s", code, p.transcript(), s.Log())
	}
	if sc, err := s.Wait(10 * time.Second); err != nil || sc != 0 {
		t.Fatalf("sipp exit %d, %v: its scenario failed (a UPDATE answered otherwise than 200, then 491?)\n%s", sc, err, s.Messages())
	}
	if h, ok := findEvent(evs, "hangup"); !ok || h.str("by") != "remote" {
		t.Fatalf("hangup event %v, want the far end's hang-up", h)
	}
	var answers []string // dialtone's answers to the UPDATEs
	for _, m := range s.Trace() {
		if !m.Sent && strings.HasPrefix(m.Text, "SIP/2.0 ") && strings.Contains(m.Text, " UPDATE\r\n") {
			answers = append(answers, strings.SplitN(m.Text, "\r\n", 2)[0])
		}
	}
	if len(answers) != 2 || !strings.HasPrefix(answers[0], "SIP/2.0 200 ") || !strings.HasPrefix(answers[1], "SIP/2.0 491 ") {
		t.Errorf("the UPDATEs were answered %q, want 200, then 491", answers)
	}
	assertToneFor(t, "the tone echoed after the early UPDATEs", rec, 650)
}
