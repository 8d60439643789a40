package interop

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestDeviceWidebandCallToBaresip: a wideband call on sound devices (--audio device, no files)
// keeps its band at the microphone and the speaker: dialtone calls a baresip that has only
// G.722 (then only Opus); a 6 kHz tone played into the microphone (PulseAudio's dt_capture)
// reaches baresip's recording, and baresip's 5 kHz reaches the speaker (dt_play's monitor,
// recorded at 16 kHz). Both are above the 4 kHz an 8 kHz device stream could carry.
func TestDeviceWidebandCallToBaresip(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	for _, c := range wideband {
		t.Run(c.codec, func(t *testing.T) {
			bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"),
				AutoAnswer: true, Codecs: []string{c.codec}, SampleRate: c.rate, ToneHz: 5000})
			pa := peers.StartPulseAudio(t)
			tone := makeTone(t, 6000, 20, 48000)
			rec := filepath.Join(t.TempDir(), "speaker.wav")
			stop := pa.Record(t, rec)
			pa.Play(t, tone)
			env := append(pa.Env(), pw("alice")...)
			code, evs, p := runDialtone(t, 40*time.Second, env, append(append([]string{"call", "sip:bob@127.0.0.1", "--json",
				"--duration", "6s", "--audio", "device"}, adhoc(k, "udp", "alice")...), debugLog(t)...)...)
			stop()
			if code != 0 {
				t.Fatalf("exit %d\n%s\nbaresip:\n%s", code, p.transcript(), bob.Log())
			}
			a, _ := findEvent(evs, "answered")
			wantAnswered(t, a, c.codec, c.rate)
			if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
				t.Fatalf("baresip saw no hangup: %v", err)
			}
			if s := toneSeconds(t, rec, 5000); s < minToneSeconds {
				t.Errorf("the speaker played %.2f s of baresip's 5 kHz, want >= %.1f s", s, minToneSeconds)
			}
			recs, err := bob.Recordings()
			if err != nil || len(recs) == 0 {
				t.Fatalf("baresip recorded nothing: %v", err)
			}
			if s := toneSeconds(t, recs[len(recs)-1], 6000); s < minToneSeconds {
				t.Errorf("baresip heard %.2f s of the microphone's 6 kHz, want >= %.1f s", s, minToneSeconds)
			}
		})
	}
}
