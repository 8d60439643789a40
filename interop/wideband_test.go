package interop

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/wav"
	"github.com/dialtone/dialtone/interop/peers"
)

// wideband are the codecs that carry audio above 4 kHz, with their audio rates.
var wideband = []struct {
	codec string
	rate  int
}{{"G722", 16000}, {"opus", 48000}}

// wantRecordingAt checks a recording's rate and that it holds freq for seconds.
func wantRecordingAt(t *testing.T, what, path string, rate int, freq, seconds float64) {
	t.Helper()
	_, got, err := wav.ReadAll(path)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got != rate {
		t.Errorf("%s: recorded at %d Hz, want the call's %d Hz", what, got, rate)
	}
	assertTone(t, path, freq, seconds)
}

// wantAnswered checks the answered event names codec at rate.
func wantAnswered(t *testing.T, a event, codec string, rate int) {
	t.Helper()
	if a.str("codec") != codec || int(a.num("rate")) != rate {
		t.Errorf("answered %v, want codec %s at %d Hz", a, codec, rate)
	}
}

// TestWidebandCallToBaresip: dialtone calls a baresip that has only G.722 (then only Opus)
// through Kamailio, playing a 6 kHz tone from a 48 kHz file and recording at the call's rate;
// baresip sends 5 kHz. Both tones are above what G.711 carries (4 kHz), so finding each in the
// other side's recording shows a wideband call end to end.
func TestWidebandCallToBaresip(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	for _, c := range wideband {
		t.Run(c.codec, func(t *testing.T) {
			bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"),
				AutoAnswer: true, Codecs: []string{c.codec}, SampleRate: c.rate, ToneHz: 5000})
			tone, rec := makeTone(t, 6000, 20, 48000), filepath.Join(t.TempDir(), "from-bob.wav")
			code, evs, p := runDialtone(t, 40*time.Second, pw("alice"), append([]string{"call", "sip:bob@127.0.0.1", "--json",
				"--play", tone, "--record", rec, "--duration", "4s"}, adhoc(k, "udp", "alice")...)...)
			if code != 0 {
				t.Fatalf("exit %d\n%s\nbaresip:\n%s", code, p.transcript(), bob.Log())
			}
			a, _ := findEvent(evs, "answered")
			wantAnswered(t, a, c.codec, c.rate)
			if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
				t.Fatalf("baresip saw no hangup: %v", err)
			}
			wantRecordingAt(t, "dialtone's recording", rec, c.rate, 5000, 3)
			wantRecordingAt(t, "baresip's recording", lastRecording(t, bob), c.rate, 6000, 3)
		})
	}
}

// TestBaresipCallsDialtoneWideband: the other direction — baresip with only G.722 (then
// only Opus) calls dialtone answer, which plays 6 kHz from a 16 kHz file.
func TestBaresipCallsDialtoneWideband(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	for _, c := range wideband {
		t.Run(c.codec, func(t *testing.T) {
			tone, rec := makeTone(t, 6000, 20, 16000), filepath.Join(t.TempDir(), "from-bob.wav")
			alice := startDialtone(t, pw("alice"), append([]string{"answer", "--auto", "--json", "--play", tone, "--record", rec},
				adhoc(k, "udp", "alice")...)...)
			alice.waitEvent("registered", 20*time.Second)
			bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"),
				Codecs: []string{c.codec}, SampleRate: c.rate, ToneHz: 5000})
			if err := bob.Dial("sip:alice@127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			wantAnswered(t, alice.waitEvent("answered", 15*time.Second), c.codec, c.rate)
			if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
				t.Fatalf("baresip: %v\n%s", err, bob.Log())
			}
			time.Sleep(4 * time.Second) // the call itself
			if err := bob.Hangup(); err != nil {
				t.Fatal(err)
			}
			alice.waitEvent("hangup", 10*time.Second)
			if code, _ := alice.wait(20 * time.Second); code != 0 {
				t.Fatalf("answer exit %d\n%s", code, alice.transcript())
			}
			wantRecordingAt(t, "dialtone's recording", rec, c.rate, 5000, 3)
			wantRecordingAt(t, "baresip's recording", lastRecording(t, bob), c.rate, 6000, 3)
		})
	}
}

// TestNarrowbandPeerStillWorks: dialtone's default offer (Opus and G.722 first) to a baresip
// with only G.711 settles on PCMU, records at 8 kHz and carries a tone both ways.
func TestNarrowbandPeerStillWorks(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 700})
	tone, rec := makeTone(t, 1300, 20, 48000), filepath.Join(t.TempDir(), "from-bob.wav")
	code, evs, p := runDialtone(t, 40*time.Second, pw("alice"), append([]string{"call", "sip:bob@127.0.0.1", "--json",
		"--play", tone, "--record", rec, "--duration", "4s"}, adhoc(k, "udp", "alice")...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, p.transcript())
	}
	a, _ := findEvent(evs, "answered")
	wantAnswered(t, a, "PCMU", 8000)
	wantRecordingAt(t, "dialtone's recording", rec, 8000, 700, 3)
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip saw no hangup: %v", err)
	}
	assertTone(t, lastRecording(t, bob), 1300, 3)
}
