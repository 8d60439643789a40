package peers

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/audio/wav"
)

const bsEventTimeout = 10 * time.Second

// checkRecording asserts that path holds at least 1.5 s at 8000 Hz with the
// tone want and not the tone notWant (for received audio: the recorder's
// own microphone).
func checkRecording(t *testing.T, who, path string, want, notWant float64) {
	t.Helper()
	checkRecordingAt(t, who, path, 8000, want, notWant)
}

// checkRecordingAt is checkRecording for a recording at wantRate (the
// codec's rate: 16000 for G.722, 48000 for Opus).
func checkRecordingAt(t *testing.T, who, path string, wantRate int, want, notWant float64) {
	t.Helper()
	samples, rate, err := wav.ReadAll(path)
	if err != nil {
		t.Fatalf("%s: reading %s: %v", who, path, err)
	}
	secs := float64(len(samples)) / float64(rate)
	if rate != wantRate || secs < 1.5 {
		t.Fatalf("%s: %s: %d samples at %d Hz (%.2f s), want >= 1.5 s at %d Hz", who, filepath.Base(path), len(samples), rate, secs, wantRate)
	}
	// Skip the first half second (jitter buffer fill, call set-up).
	body := samples[rate/2:]
	found, level, snr := audiotest.DetectTone(body, rate, want)
	t.Logf("%s: %s: %.2f s, %.0f Hz at %.1f dBFS, SNR %.1f dB", who, filepath.Base(path), secs, want, level, snr)
	if !found {
		t.Errorf("%s: audio %s lacks the far end's %.0f Hz tone (level %.1f dBFS, SNR %.1f dB)", who, path, want, level, snr)
	}
	// G.711 quantisation of a tone whose period divides 80 samples puts
	// distortion lines on every multiple of 100 Hz, about 40 dB down, so the
	// other tone is compared with the wanted one rather than merely detected.
	if _, other, _ := audiotest.DetectTone(body, rate, notWant); other > level-30 {
		t.Errorf("%s: audio %s has %.0f Hz at %.1f dBFS, only %.1f dB below the wanted tone", who, path, notWant, other, level-other)
	}
}

func mustEvent(t *testing.T, who string, b *Baresip, typ string) BaresipEvent {
	t.Helper()
	ev, err := b.WaitEvent(typ, bsEventTimeout)
	if err != nil {
		t.Fatalf("%s: %v\n--- %s log ---\n%s", who, err, who, b.Log())
	}
	return ev
}

// TestBaresipCall: bob calls alice through Kamailio, alice answers
// automatically, and each side records the other's tone.
func TestBaresipCall(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test")
	}
	k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "alicepw", "bob": "bobpw"}})
	alice := StartBaresip(t, BaresipOptions{User: "alice", Password: "alicepw", Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 700})
	bob := StartBaresip(t, BaresipOptions{User: "bob", Password: "bobpw", Registrar: k.HostPort("udp"), ToneHz: 1300})

	for _, aor := range []string{"sip:alice@127.0.0.1", "sip:bob@127.0.0.1"} {
		cs, err := k.Contacts(aor)
		if err != nil || len(cs) != 1 {
			t.Fatalf("Kamailio contacts of %s: %v %v", aor, cs, err)
		}
	}

	if err := bob.Dial("sip:alice@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	// With answermode=auto baresip 1.0 answers without a CALL_INCOMING event.
	in := mustEvent(t, "alice", alice, "CALL_ESTABLISHED")
	if in.Direction != "incoming" || !strings.Contains(in.PeerURI, "bob@127.0.0.1") || in.AccountAOR != "sip:alice@127.0.0.1" {
		t.Errorf("alice CALL_ESTABLISHED = %+v", in)
	}
	est := mustEvent(t, "bob", bob, "CALL_ESTABLISHED")
	if est.Direction != "outgoing" || !strings.Contains(est.PeerURI, "alice@127.0.0.1") {
		t.Errorf("bob CALL_ESTABLISHED = %+v", est)
	}

	waitAudio(t, 2500*time.Millisecond, alice, bob)
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, "bob", bob, "CALL_CLOSED")
	closed := mustEvent(t, "alice", alice, "CALL_CLOSED")
	t.Logf("alice CALL_CLOSED param %q", closed.Param)

	for _, c := range []struct {
		who           string
		b             *Baresip
		want, notWant float64
	}{{"alice", alice, 1300, 700}, {"bob", bob, 700, 1300}} {
		recs, err := c.b.Recordings()
		if err != nil {
			t.Fatalf("%s: %v", c.who, err)
		}
		if len(recs) != 1 {
			t.Fatalf("%s: recordings %v, want one", c.who, recs)
		}
		checkRecording(t, c.who, recs[0], c.want, c.notWant)
		sent, err := c.b.SentRecordings()
		if err != nil || len(sent) != 1 {
			t.Fatalf("%s: sent recordings %v %v", c.who, sent, err)
		}
		checkRecording(t, c.who+" (sent)", sent[0], c.notWant, c.want)
	}
}

// TestBaresipListen: an unregistered baresip is called directly on its SIP
// port by another one and answered by hand.
func TestBaresipListen(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test")
	}
	carol := StartBaresip(t, BaresipOptions{User: "carol", ToneHz: 500})
	dave := StartBaresip(t, BaresipOptions{User: "dave", ToneHz: 900})

	if err := dave.Dial(carol.AOR()); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, "carol", carol, "CALL_INCOMING")
	mustEvent(t, "dave", dave, "CALL_RINGING")
	if err := carol.Answer(); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, "dave", dave, "CALL_ESTABLISHED")
	mustEvent(t, "carol", carol, "CALL_ESTABLISHED")
	waitAudio(t, 2*time.Second, dave)
	if err := carol.Hangup(); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, "carol", carol, "CALL_CLOSED")
	mustEvent(t, "dave", dave, "CALL_CLOSED")

	recs, err := dave.Recordings()
	if err != nil || len(recs) != 1 {
		t.Fatalf("dave: recordings %v %v", recs, err)
	}
	checkRecording(t, "dave", recs[0], 500, 900)
}
