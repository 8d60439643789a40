package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestCallSippEcho: a direct call (no account) to a sipp UAS that echoes RTP; dialtone hears
// its own tone come back.
func TestCallSippEcho(t *testing.T) {
	t.Parallel()
	s := peers.StartSippUAS(t, peers.SippOptions{Scenario: "uas_echo", RTPEcho: true})
	tone := makeTone(t, 900, 10, 8000)
	rec := filepath.Join(t.TempDir(), "echo.wav")
	code, evs, p := runDialtone(t, 30*time.Second, nil, "call", s.URI("echo"), "--json", "--play", tone, "--record", rec, "--duration", "3s",
		"--rtp-ports", "31000-31009")
	if code != 0 {
		t.Fatalf("exit %d\n%s\nsipp:\n%s", code, p.transcript(), s.Log())
	}
	// sipp sends its 180 and 200 back to back, and sipgo hands each response to the
	// transaction in a goroutine of its own: the 180 may come second, when the call rightly
	// ignores it. So ringing is not required here (TestCallCtrlCWhileRingingCancels needs it,
	// from a far end that really rings), but never after the answer.
	if got := names(evs); slices.Index(got, "ringing") > slices.Index(got, "answered") {
		t.Errorf("ringing reported after the answer: %v", got)
	}
	assertTone(t, rec, 900, 2)
	invites := s.Received("INVITE")
	if len(invites) == 0 || !regexp.MustCompile(`m=audio 3100[02468] RTP/AVP`).MatchString(invites[0]) {
		t.Fatalf("the offer's RTP port is not an even port in --rtp-ports 31000-31009:\n%v", invites)
	}
	if c, err := s.Wait(10 * time.Second); err != nil || c != 0 {
		t.Fatalf("sipp exit %d (%v): the scenario did not complete\n%s", c, err, s.Messages())
	}
}

// TestCallSippOutcomes: sipp answers with a scripted failure; dialtone's exit code says which.
func TestCallSippOutcomes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		scenario string
		extra    []string
		want     int
		failure  string
	}{
		{"uas_busy", nil, 10, "busy"},
		{"uas_notfound", nil, 13, "not_found"},
		{"uas_ring_forever", []string{"--ring-timeout", "2s"}, 11, "no_answer"},
	}
	for _, c := range cases {
		t.Run(c.scenario, func(t *testing.T) {
			t.Parallel()
			s := peers.StartSippUAS(t, peers.SippOptions{Scenario: c.scenario})
			start := time.Now()
			code, evs, p := runDialtone(t, 30*time.Second, nil, append([]string{"call", s.URI("bob"), "--json", "--audio", "null"}, c.extra...)...)
			if code != c.want {
				t.Fatalf("exit %d, want %d\n%s", code, c.want, p.transcript())
			}
			h, _ := findEvent(evs, "hangup")
			if h.str("failure") != c.failure {
				t.Fatalf("hangup %v, want failure %s", h, c.failure)
			}
			if c.scenario == "uas_ring_forever" {
				if el := time.Since(start); el < 2*time.Second {
					t.Fatalf("gave up after %v, before the 2 s ring timeout", el)
				}
				if len(s.Received("CANCEL")) != 1 {
					t.Fatalf("sipp received %d CANCELs, want 1\n%s", len(s.Received("CANCEL")), s.Messages())
				}
			}
			if sc, err := s.Wait(10 * time.Second); err != nil || sc != 0 {
				t.Fatalf("sipp exit %d (%v)\n%s", sc, err, s.Messages())
			}
		})
	}
}

// TestCallSippDigest: sipp challenges the INVITE (401 or 407); dialtone answers with the
// account's password; a wrong password ends as an authentication failure.
func TestCallSippDigest(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		scenario, password string
		want               int
	}{
		{"uas_auth", "secret", 0},
		{"uas_proxy_auth", "secret", 0},
		{"uas_auth", "wrong", 3},
	} {
		t.Run(c.scenario+"/"+c.password, func(t *testing.T) {
			t.Parallel()
			s := peers.StartSippUAS(t, peers.SippOptions{Scenario: c.scenario})
			code, _, p := runDialtone(t, 30*time.Second, []string{"DIALTONE_PASSWORD=" + c.password},
				"call", "sip:bob@127.0.0.1", "--aor", "sip:alice@127.0.0.1", "--registrar", "sip:"+s.HostPort(),
				"--json", "--audio", "null", "--duration", "1s")
			if code != c.want {
				t.Fatalf("exit %d, want %d\n%s\nsipp:\n%s", code, c.want, p.transcript(), s.Messages())
			}
			if c.want == 0 {
				if n := len(s.Received("INVITE")); n < 2 {
					t.Fatalf("sipp saw %d INVITEs, want the challenged one and the answer", n)
				}
				hdr := "Authorization"
				if c.scenario == "uas_proxy_auth" {
					hdr = "Proxy-Authorization"
				}
				// Checked in Go too: sipp's verifyauth cannot check a Proxy-Authorization.
				if err := s.VerifyDigest(hdr, "alice", "secret"); err != nil {
					t.Fatalf("the digest sipp received does not verify: %v", err)
				}
			}
		})
	}
}

// TestCallHangupOnEOF: --hangup-on-eof ends the call when the played file ends.
func TestCallHangupOnEOF(t *testing.T) {
	t.Parallel()
	s := peers.StartSippUAS(t, peers.SippOptions{Scenario: "uas_echo", RTPEcho: true})
	tone := makeTone(t, 900, 2, 8000)
	code, evs, p := runDialtone(t, 30*time.Second, nil, "call", s.URI("echo"), "--json", "--play", tone, "--audio", "null", "--hangup-on-eof")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, p.transcript())
	}
	h, _ := findEvent(evs, "hangup")
	if d := h.num("duration"); h.str("by") != "local" || d < 1.8 || d > 6 {
		t.Fatalf("hangup %v: want a local hangup about 2 s after the answer, when the file ended", h)
	}
}

// TestCallEarlyMediaIsPlayed: the far end answers 183 with SDP and plays an announcement
// before refusing the call; dialtone plays (here: records) the early media and sends nothing.
// The same for a 180 with SDP, as some carriers and gateways play their ringback in (it was
// taken as a plain 180 and its media dropped).
func TestCallEarlyMediaIsPlayed(t *testing.T) {
	t.Parallel()
	raw := filepath.Join(t.TempDir(), "early.ulaw")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw", raw, "synth", "3", "sine", "800", "vol", "0.5").CombinedOutput(); err != nil {
		t.Skipf("sox: %v %s", err, out)
	}
	for _, status := range []string{"183 Session Progress", "180 Ringing"} {
		t.Run(status[:3], func(t *testing.T) {
			t.Parallel()
			// sipp does not expand keywords in rtp_stream, so the file's path goes into the XML itself.
			xml := strings.NewReplacer("[early_file]", raw, "183 Session Progress", status).Replace(readFile(t, "peers/testdata/sipp/uas_early_media.xml"))
			scenario := filepath.Join(t.TempDir(), "uas_early_media.xml")
			if err := os.WriteFile(scenario, []byte(xml), 0o600); err != nil {
				t.Fatal(err)
			}
			s := peers.StartSippUAS(t, peers.SippOptions{Scenario: scenario})
			rec := filepath.Join(t.TempDir(), "early.wav")
			code, evs, p := runDialtone(t, 30*time.Second, nil, "call", s.URI("bob"), "--json", "--audio", "null", "--record", rec)
			if code != 10 {
				t.Fatalf("exit %d, want 10 (486 after the announcement)\n%s\nsipp:\n%s", code, p.transcript(), s.Log())
			}
			if _, ok := findEvent(evs, "early_media"); !ok {
				t.Fatalf("no early_media event: %v", names(evs))
			}
			if secs := toneSeconds(t, rec, 800); secs < 1 {
				t.Fatalf("early media: 800 Hz heard for %.2f s, want at least 1 s", secs)
			}
		})
	}
}

// TestCallHearsTheOtherLaw: sipp answers with PCMU and PCMA (PCMU first, which dialtone then
// sends), and sends A-law (PT 8), as RFC 3264 §5.1 lets an answerer: dialtone plays it, its
// 800 Hz in the recording. Those packets were dropped as a codec not negotiated: silence.
func TestCallHearsTheOtherLaw(t *testing.T) {
	t.Parallel()
	raw := filepath.Join(t.TempDir(), "other.alaw")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-e", "a-law", "-t", "raw", raw, "synth", "4", "sine", "800", "vol", "0.5").CombinedOutput(); err != nil {
		t.Skipf("sox: %v %s", err, out)
	}
	xml := strings.ReplaceAll(readFile(t, "testdata/sipp_uas_sends_other_law.xml"), "[alaw_file]", raw)
	scenario := filepath.Join(t.TempDir(), "other_law.xml")
	if err := os.WriteFile(scenario, []byte(xml), 0o600); err != nil {
		t.Fatal(err)
	}
	s := peers.StartSippUAS(t, peers.SippOptions{Scenario: scenario})
	rec := filepath.Join(t.TempDir(), "heard.wav")
	code, evs, p := runDialtone(t, 30*time.Second, nil, "call", s.URI("bob"), "--json", "--audio", "null", "--record", rec, "--duration", "3s")
	if code != 0 {
		t.Fatalf("exit %d\n%s\nsipp:\n%s", code, p.transcript(), s.Log())
	}
	if a, _ := findEvent(evs, "answered"); a.str("codec") != "PCMU" {
		t.Fatalf("answered %v, want PCMU (the answer's first)", a)
	}
	assertToneFor(t, "the far end's A-law", rec, 800)
}

// TestCallHearsAnotherCodecOfTheAnswer: sipp answers G722 and PCMU (G722 first, which dialtone
// then sends) and sends PCMU (PT 0), as RFC 3264 §5.1 lets an answerer (Asterisk does when it
// bridges a call on without a re-INVITE): dialtone plays it, its 800 Hz in the recording. Those
// packets were dropped as a codec not negotiated: silence.
func TestCallHearsAnotherCodecOfTheAnswer(t *testing.T) {
	t.Parallel()
	raw := filepath.Join(t.TempDir(), "other.ulaw")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw", raw, "synth", "4", "sine", "800", "vol", "0.5").CombinedOutput(); err != nil {
		t.Skipf("sox: %v %s", err, out)
	}
	xml := readFile(t, "testdata/sipp_uas_sends_other_law.xml")
	for from, to := range map[string]string{
		"RTP/AVP 0 8":                  "RTP/AVP 9 0",
		"a=rtpmap:8 PCMA/8000":         "a=rtpmap:9 G722/8000",
		`rtp_stream="[alaw_file],1,8"`: `rtp_stream="` + raw + `,1,0"`,
	} {
		if !strings.Contains(xml, from) {
			t.Fatalf("the scenario has no %q to replace", from)
		}
		xml = strings.ReplaceAll(xml, from, to)
	}
	scenario := filepath.Join(t.TempDir(), "other_codec.xml")
	if err := os.WriteFile(scenario, []byte(xml), 0o600); err != nil {
		t.Fatal(err)
	}
	s := peers.StartSippUAS(t, peers.SippOptions{Scenario: scenario})
	rec := filepath.Join(t.TempDir(), "heard.wav")
	code, evs, p := runDialtone(t, 30*time.Second, nil, "call", s.URI("bob"), "--json", "--audio", "null", "--codecs", "G722,PCMU", "--record", rec, "--duration", "3s")
	if code != 0 {
		t.Fatalf("exit %d\n%s\nsipp:\n%s", code, p.transcript(), s.Log())
	}
	if a, _ := findEvent(evs, "answered"); a.str("codec") != "G722" {
		t.Fatalf("answered %v, want G722 (the answer's first)", a)
	}
	assertToneFor(t, "the far end's PCMU on a G722 call", rec, 800)
}

// TestCallCtrlCWhileRingingCancels: SIGINT while the far end rings sends CANCEL and exits 11.
func TestCallCtrlCWhileRingingCancels(t *testing.T) {
	t.Parallel()
	s := peers.StartSippUAS(t, peers.SippOptions{Scenario: "uas_ring_forever"})
	p := startDialtone(t, nil, "call", s.URI("bob"), "--json", "--audio", "null")
	p.waitEvent("ringing", 10*time.Second)
	p.signal(syscall.SIGINT)
	code, rest := p.wait(15 * time.Second)
	if code != 11 {
		t.Fatalf("exit %d, want 11\n%s", code, p.transcript())
	}
	if h, ok := findEvent(rest, "hangup"); !ok || h.str("by") != "local" {
		t.Fatalf("hangup %v, want by local", h)
	}
	if len(s.Received("CANCEL")) != 1 {
		t.Fatalf("sipp received %d CANCELs, want 1", len(s.Received("CANCEL")))
	}
}
