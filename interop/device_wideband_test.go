package interop

import (
	"testing"

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
			wantAnswered(t, deviceCallToBaresip(t, k, bob, 6000, 48000, 5000), c.codec, c.rate)
		})
	}
}
