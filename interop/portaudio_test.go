package interop

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/audio/wav"
	"github.com/dialtone/dialtone/interop/peers"
)

// These tests run dialtone with real PortAudio devices (--audio device, no --play/--record)
// under a private PulseAudio (peers.StartPulseAudio): the microphone is the dt_capture null
// sink, fed by Play, and the speaker is dt_play, whose monitor Record taps. The machine may
// run audio slower than real time, so they check what was heard, never when or for how long
// beyond a lower bound.

// minToneSeconds is how much of a tone a recording must hold to count as heard.
const minToneSeconds = 1.0

// toneSeconds returns how many seconds of path hold a tone at freq: the number of 50 ms
// blocks in which audiotest.DetectTone finds it. Unlike assertTone it does not care about the
// silence around the call in a recording of a whole device.
func toneSeconds(t *testing.T, path string, freq float64) float64 {
	t.Helper()
	samples, rate, err := wav.ReadAll(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	block := rate / 20
	n := 0
	for i := 0; i+block <= len(samples); i += block {
		if found, _, _ := audiotest.DetectTone(samples[i:i+block], rate, freq); found {
			n++
		}
	}
	secs := float64(n*block) / float64(rate)
	t.Logf("%s: %.0f Hz in %.2f s of %.2f s", filepath.Base(path), freq, secs, float64(len(samples))/float64(rate))
	return secs
}

// debugLog returns dialtone flags for a debug log file, which is shown if the test fails.
func debugLog(t *testing.T) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dialtone.log")
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(path)
			t.Logf("--- dialtone log (%s) ---\n%s", path, b)
		}
	})
	return []string{"--log-level", "debug", "--log-file", path}
}

// TestDeviceEchoCall: the echo test sends the microphone back to the speaker, so a tone played
// into the microphone comes out of the speaker.
func TestDeviceEchoCall(t *testing.T) {
	t.Parallel()
	pa := peers.StartPulseAudio(t)
	tone := makeTone(t, 700, 20, 44100)
	rec := filepath.Join(t.TempDir(), "speaker.wav")
	stop := pa.Record(t, rec)
	pa.Play(t, tone)
	code, evs, p := runDialtone(t, 30*time.Second, pa.Env(), append([]string{"call", "echo", "--duration", "6s", "--json",
		"--audio", "device"}, debugLog(t)...)...)
	stop()
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, p.transcript())
	}
	if a, ok := findEvent(evs, "answered"); !ok || a.str("codec") == "" {
		t.Fatalf("no answered event with a codec: %v\n%s", names(evs), p.transcript())
	}
	if h, ok := findEvent(evs, "hangup"); !ok || h.str("by") != "local" {
		t.Fatalf("want a local hangup, got %v\n%s", h, p.transcript())
	}
	if s := toneSeconds(t, rec, 700); s < minToneSeconds {
		t.Fatalf("the speaker played %.2f s of the microphone's 700 Hz echoed back, want >= %.1f s\n%s", s, minToneSeconds, p.transcript())
	}
}

// TestDeviceCallToBaresip: dialtone calls an auto-answering baresip through Kamailio; the
// microphone's tone reaches baresip and baresip's tone reaches the speaker.
func TestDeviceCallToBaresip(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 1300})
	a := deviceCallToBaresip(t, k, bob, 700, 8000, 1300)
	if a.str("codec") == "" {
		t.Errorf("answered without a codec: %v", a)
	}
}

// deviceCallToBaresip runs `dialtone call --audio device` to bob for 6 s on a private
// PulseAudio whose microphone plays a micHz tone (from a file at rate), and checks that bob
// heard micHz and the speaker played bob's speakerHz, each for most of the call. It returns
// the answered event.
func deviceCallToBaresip(t *testing.T, k *peers.Kamailio, bob *peers.Baresip, micHz float64, rate int, speakerHz float64) event {
	t.Helper()
	pa := peers.StartPulseAudio(t)
	tone := makeTone(t, micHz, 20, rate)
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
	a, ok := findEvent(evs, "answered")
	if !ok {
		t.Fatalf("no answered event: %v\n%s", names(evs), p.transcript())
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip saw no hangup: %v", err)
	}
	if s := toneSeconds(t, rec, speakerHz); s < minToneSeconds {
		t.Errorf("the speaker played %.2f s of baresip's %.0f Hz, want >= %.1f s", s, speakerHz, minToneSeconds)
	}
	if s := toneSeconds(t, lastRecording(t, bob), micHz); s < minToneSeconds {
		t.Errorf("baresip heard %.2f s of the microphone's %.0f Hz, want >= %.1f s", s, micHz, minToneSeconds)
	}
	return a
}

// TestDevicesListsPulseDevices: dialtone devices sees an input and an output.
func TestDevicesListsPulseDevices(t *testing.T) {
	t.Parallel()
	pa := peers.StartPulseAudio(t)
	code, evs, p := runDialtone(t, 15*time.Second, pa.Env(), append([]string{"devices", "--json"}, debugLog(t)...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, p.transcript())
	}
	var in, out bool
	for _, e := range evs {
		if e.name() != "device" {
			continue
		}
		in = in || e.num("inputs") > 0
		out = out || e.num("outputs") > 0
	}
	if !in || !out {
		t.Fatalf("want an input and an output device\n%s", p.transcript())
	}
}
