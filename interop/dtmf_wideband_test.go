package interop

import (
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestDTMFToBaresipWideband: RFC 4733 digits to a baresip that has only G.722, then only Opus.
// Next to Opus baresip 1.0 offers telephone-event only at 8000 Hz while the audio's RTP clock is
// 48000: the digits must still arrive once each, in order.
func TestDTMFToBaresipWideband(t *testing.T) {
	t.Parallel()
	for _, c := range wideband {
		t.Run(c.codec, func(t *testing.T) {
			bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", AutoAnswer: true, Codecs: []string{c.codec}, ToneHz: 700})
			const digits = "159#*0D2"
			code, evs, p := runDialtone(t, 40*time.Second, nil, "call", bob.AOR(), "--json", "--audio", "null",
				"--dtmf", digits, "--duration", "3s")
			if code != 0 {
				t.Fatalf("exit %d\n%s\nbaresip:\n%s", code, p.transcript(), bob.Log())
			}
			a, _ := findEvent(evs, "answered")
			wantAnswered(t, a, c.codec, c.rate)
			eventually(t, 5*time.Second, "baresip received the digits", func() (bool, string) {
				got := baresipDigits(bob)
				return got == digits, "CALL_DTMF_START keys " + got + ", want " + digits
			})
			if n := strings.Count(bob.Log(), "received event:"); n != 2*len(digits) {
				t.Errorf("baresip logged %d event starts and ends, want %d (one each per digit)", n, 2*len(digits))
			}
		})
	}
}
