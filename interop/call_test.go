package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/audio/wav"
	"github.com/dialtone/dialtone/interop/peers"
)

// makeTone writes a mono WAV with a sine at freq for secs seconds at rate (sox, the reference
// tool, so our own writer is not what we test with).
func makeTone(t *testing.T, freq float64, secs float64, rate int) string {
	t.Helper()
	if _, err := exec.LookPath("sox"); err != nil {
		t.Skip("sox is not installed (make test installs it)")
	}
	path := filepath.Join(t.TempDir(), "tone.wav")
	out, err := exec.Command("sox", "-n", "-r", itoa(rate), "-c", "1", "-b", "16", path,
		"synth", ftoa(secs), "sine", ftoa(freq), "vol", "0.5").CombinedOutput()
	if err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	return path
}

// assertTone checks that a recording holds a tone at freq (Goertzel), at a sensible level.
func assertTone(t *testing.T, path string, freq float64, minSeconds float64) {
	t.Helper()
	samples, rate, err := wav.ReadAll(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if got := float64(len(samples)) / float64(rate); got < minSeconds {
		t.Fatalf("%s holds %.2f s of audio, want at least %.2f s", path, got, minSeconds)
	}
	found, level, snr := audiotest.DetectTone(samples, rate, freq)
	if !found {
		t.Fatalf("%s: no %.0f Hz tone (level %.1f dBFS, snr %.1f dB)", path, freq, level, snr)
	}
	t.Logf("%s: %.0f Hz at %.1f dBFS, SNR %.1f dB, %.2f s", filepath.Base(path), freq, level, snr, float64(len(samples))/float64(rate))
}

func TestCallEchoTestHearsItself(t *testing.T) {
	t.Parallel()
	tone := makeTone(t, 1000, 5, 44100) // not 8 kHz: the resampler is on the path too
	rec := filepath.Join(t.TempDir(), "echo.wav")
	code, evs, p := runDialtone(t, 30*time.Second, nil, "call", "echo", "--play", tone, "--record", rec, "--duration", "3s", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, p.transcript())
	}
	if a, ok := findEvent(evs, "answered"); !ok || a.str("codec") == "" {
		t.Fatalf("no answered event with a codec: %v", names(evs))
	}
	h, ok := findEvent(evs, "hangup")
	if !ok || h.str("by") != "local" || h.num("duration") < 2.5 {
		t.Fatalf("want a local hangup after ~3 s, got %v", h)
	}
	assertTone(t, rec, 1000, 2.5)
}

// TestCallEchoTestIsWideband: the echo test echoes at the call's rate, so with the default
// codecs (Opus first) and with G.722 a 6 kHz tone — beyond G.711 — comes back.
func TestCallEchoTestIsWideband(t *testing.T) {
	t.Parallel()
	tone := makeTone(t, 6000, 5, 48000)
	for _, c := range []struct{ codecs, want string }{{"", "opus"}, {"G722", "G722"}} {
		rec := filepath.Join(t.TempDir(), "echo.wav")
		args := []string{"call", "echo", "--play", tone, "--record", rec, "--duration", "3s", "--json"}
		if c.codecs != "" {
			args = append(args, "--codecs", c.codecs)
		}
		code, evs, p := runDialtone(t, 30*time.Second, nil, args...)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, p.transcript())
		}
		if a, _ := findEvent(evs, "answered"); a.str("codec") != c.want {
			t.Errorf("answered %v, want %s", a, c.want)
		}
		assertTone(t, rec, 6000, 2.5)
	}
}

func TestCallBetweenTwoDialtonesThroughKamailio(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	bobTone, aliceTone := makeTone(t, 700, 20, 8000), makeTone(t, 1300, 20, 8000)
	dir := t.TempDir()
	bobRec, aliceRec := filepath.Join(dir, "bob.wav"), filepath.Join(dir, "alice.wav")
	bob := startDialtone(t, pw("bob"), append([]string{"answer", "--auto", "--json", "--play", bobTone, "--record", bobRec}, adhoc(k, "udp", "bob")...)...)
	bob.waitEvent("registered", 20*time.Second)
	code, evs, p := runDialtone(t, 40*time.Second, pw("alice"), append([]string{"call", "sip:bob@127.0.0.1", "--json",
		"--play", aliceTone, "--record", aliceRec, "--duration", "4s"}, adhoc(k, "udp", "alice")...)...)
	if code != 0 {
		t.Fatalf("call exit %d\n%s\nbob:\n%s", code, p.transcript(), bob.transcript())
	}
	if _, ok := findEvent(evs, "answered"); !ok {
		t.Fatalf("no answered event: %v", names(evs))
	}
	if c, _ := bob.wait(20 * time.Second); c != 0 {
		t.Fatalf("answer exit %d\n%s", c, bob.transcript())
	}
	assertTone(t, aliceRec, 700, 3) // alice hears bob
	assertTone(t, bobRec, 1300, 3)  // bob hears alice
}

func TestCallOutcomesThroughKamailio(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users, AuthCalls: true})
	bob := startDialtone(t, pw("bob"), append([]string{"answer", "--reject", "603", "--json", "--audio", "null"}, adhoc(k, "udp", "bob")...)...)
	bob.waitEvent("registered", 20*time.Second)
	cases := []struct {
		name     string
		target   string
		password string
		want     int
		failure  string
	}{
		{"declined by bob", "sip:bob@127.0.0.1", users["alice"], 12, "declined"},
		{"nobody registered", "sip:carol@127.0.0.1", users["alice"], 13, "not_found"},
		{"wrong password on INVITE", "sip:bob@127.0.0.1", "wrong", 3, "auth"},
	}
	for _, c := range cases {
		code, evs, p := runDialtone(t, 30*time.Second, []string{"DIALTONE_PASSWORD=" + c.password},
			append([]string{"call", c.target, "--json", "--audio", "null"}, adhoc(k, "udp", "alice")...)...)
		if code != c.want {
			t.Fatalf("%s: exit %d, want %d\n%s", c.name, code, c.want, p.transcript())
		}
		h, ok := findEvent(evs, "hangup")
		if !ok || h.str("failure") != c.failure {
			t.Fatalf("%s: hangup event %v, want failure %q", c.name, h, c.failure)
		}
	}
	if code, _ := bob.wait(20 * time.Second); code != 0 {
		t.Fatalf("answer --reject exit %d, want 0 (it rejected as asked)\n%s", code, bob.transcript())
	}
}

// lastRecording is the newest of b's sndfile recordings of what it received (baresip starts a
// new one at every re-INVITE); the test fails if b recorded nothing.
func lastRecording(t *testing.T, b *peers.Baresip) string {
	t.Helper()
	recs, err := b.Recordings()
	if err != nil || len(recs) == 0 {
		t.Fatalf("baresip recorded nothing: %v", err)
	}
	return recs[len(recs)-1]
}

// TestLargeOfferOverUDPThroughKamailio: an SDES offer of every codec and suite, challenged by
// Kamailio, makes an INVITE over 1300 bytes on a UDP account (Proxy-Authorization, Route and
// four a=crypto lines). It goes out as one datagram, as baresip sends it, and the call is
// encrypted with audio both ways.
func TestLargeOfferOverUDPThroughKamailio(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users, AuthCalls: true})
	bobTone, aliceTone := makeTone(t, 700, 20, 8000), makeTone(t, 1300, 20, 8000)
	dir := t.TempDir()
	bobRec, aliceRec, trace := filepath.Join(dir, "bob.wav"), filepath.Join(dir, "alice.wav"), filepath.Join(dir, "sip.txt")
	bob := startDialtone(t, pw("bob"), append([]string{"answer", "--auto", "--json", "--play", bobTone, "--record", bobRec,
		"--media-encryption", "sdes"}, adhoc(k, "udp", "bob")...)...)
	bob.waitEvent("registered", 20*time.Second)
	code, evs, p := runDialtone(t, 40*time.Second, pw("alice"), append([]string{"call", "sip:bob@127.0.0.1", "--json",
		"--play", aliceTone, "--record", aliceRec, "--duration", "3s", "--media-encryption", "sdes", "--sip-trace", trace},
		adhoc(k, "udp", "alice")...)...)
	if code != 0 {
		t.Fatalf("call exit %d\n%s\nbob:\n%s", code, p.transcript(), bob.transcript())
	}
	if a, ok := findEvent(evs, "answered"); !ok || a.str("srtp") == "" {
		t.Fatalf("answered %v, want an encrypted call", a)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	if n := largestInvite(string(b)); n <= 1300 {
		t.Fatalf("the largest INVITE sent was %d bytes: the test no longer sends one over 1300", n)
	}
	if c, _ := bob.wait(20 * time.Second); c != 0 {
		t.Fatalf("answer exit %d\n%s", c, bob.transcript())
	}
	assertTone(t, aliceRec, 700, 2)
	assertTone(t, bobRec, 1300, 2)
}

// largestInvite is the size on the wire of the largest INVITE a --sip-trace file says was sent
// (its "=== TIME send … (N bytes)" line; the text below it hides the keys).
func largestInvite(trace string) int {
	largest := 0
	re := regexp.MustCompile(`(?m)^=== \S+ send .*\((\d+) bytes\)\r?\nINVITE `)
	for _, m := range re.FindAllStringSubmatch(trace, -1) {
		if n, _ := strconv.Atoi(m[1]); n > largest {
			largest = n
		}
	}
	return largest
}
