package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// tlsBaresip is a baresip registered at k over TLS that trusts k's certificate, answering by
// itself with a tone, with the media encryption menc ("" plain, "srtp", "srtp-mand").
func tlsBaresip(t *testing.T, k *peers.Kamailio, user, menc string, tone float64) *peers.Baresip {
	return peers.StartBaresip(t, peers.BaresipOptions{User: user, Password: users[user], Registrar: k.HostPort("tls"),
		Transport: "tls", CAFile: k.CAFile(), MediaEnc: menc, AutoAnswer: true, ToneHz: tone})
}

// wantEncrypted checks an answered event says SRTP protects the call.
func wantEncrypted(t *testing.T, evs []event) {
	t.Helper()
	a, ok := findEvent(evs, "answered")
	if !ok {
		t.Fatalf("no answered event: %v", names(evs))
	}
	if enc, _ := a["encrypted"].(bool); !enc || a.str("srtp") == "" {
		t.Errorf("answered event %v: want encrypted with an SRTP suite", a)
	}
}

// wantKeysHidden checks the SIP trace has a=crypto lines with their keys masked.
func wantKeysHidden(t *testing.T, trace string) {
	t.Helper()
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "a=crypto:") || strings.Contains(string(b), "inline:") && !strings.Contains(string(b), "inline:<key hidden>") {
		t.Errorf("the SIP trace shows an SRTP key or no a=crypto at all")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "inline:") && !strings.Contains(line, "inline:<key hidden>") {
			t.Errorf("the SIP trace shows a key: %q", line)
		}
	}
}

// TestSRTPCallToBaresipOverTLS: dialtone, requiring SRTP, calls a baresip that requires it too
// (mediaenc=srtp-mand), both registered over TLS at Kamailio; each hears the other's tone
// through SRTP, the answered event names the suite, the trace hides the keys.
func TestSRTPCallToBaresipOverTLS(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	bob := tlsBaresip(t, k, "bob", "srtp-mand", 700)
	dir := t.TempDir()
	tone, rec, trace := makeTone(t, 1300, 20, 8000), filepath.Join(dir, "from-bob.wav"), filepath.Join(dir, "sip.trace")
	code, evs, p := runDialtone(t, 40*time.Second, pw("alice"), append([]string{"call", "sip:bob@127.0.0.1", "--json",
		"--media-encryption", "sdes-required", "--tls-ca", k.CAFile(), "--sip-trace", trace,
		"--play", tone, "--record", rec, "--duration", "4s"}, adhoc(k, "tls", "alice")...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\nbaresip:\n%s", code, p.transcript(), bob.Log())
	}
	wantEncrypted(t, evs)
	wantKeysHidden(t, trace)
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip saw no hangup: %v", err)
	}
	assertTone(t, rec, 700, 3)                    // dialtone decrypted baresip's SRTP
	assertTone(t, lastRecording(t, bob), 1300, 3) // baresip decrypted ours
}

// TestBaresipCallsDialtoneSRTPOverTLS: baresip (srtp-mand, RTP/SAVP) calls dialtone answer
// over TLS with the default policy, which takes an encrypted offer: SRTP both ways.
func TestBaresipCallsDialtoneSRTPOverTLS(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	tone, rec := makeTone(t, 1100, 20, 8000), filepath.Join(t.TempDir(), "from-bob.wav")
	alice := startDialtone(t, pw("alice"), append([]string{"answer", "--auto", "--count", "1", "--json", "--tls-ca", k.CAFile(),
		"--play", tone, "--record", rec}, adhoc(k, "tls", "alice")...)...)
	alice.waitEvent("registered", 20*time.Second)
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("tls"),
		Transport: "tls", CAFile: k.CAFile(), MediaEnc: "srtp-mand", ToneHz: 600})
	if err := bob.Dial("sip:alice@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	a := alice.waitEvent("answered", 15*time.Second)
	if enc, _ := a["encrypted"].(bool); !enc || a.str("srtp") == "" {
		t.Errorf("answered %v: want encrypted", a)
	}
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("baresip: %v\n%s", err, bob.Log())
	}
	time.Sleep(4 * time.Second) // the call itself: audio flows both ways
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	alice.waitEvent("hangup", 10*time.Second)
	if code, _ := alice.wait(20 * time.Second); code != 0 {
		t.Fatalf("answer exit %d\n%s", code, alice.transcript())
	}
	assertTone(t, rec, 600, 3)
	assertTone(t, lastRecording(t, bob), 1100, 3)
}

// TestSRTPRequiredToPlainBaresip: dialtone requires SRTP, the far end (a baresip without the
// srtp module) cannot do it and answers 488: the call fails as insecure, exit 17, and says so.
func TestSRTPRequiredToPlainBaresip(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	tlsBaresip(t, k, "bob", "", 700)
	code, evs, p := runDialtone(t, 30*time.Second, pw("alice"), append([]string{"call", "sip:bob@127.0.0.1", "--json",
		"--audio", "null", "--media-encryption", "sdes-required", "--tls-ca", k.CAFile()}, adhoc(k, "tls", "alice")...)...)
	if code != 17 {
		t.Fatalf("exit %d, want 17 (media encryption not agreed)\n%s", code, p.transcript())
	}
	h, ok := findEvent(evs, "hangup")
	if !ok || h.str("failure") != "insecure" || h.num("code") != 488 {
		t.Errorf("hangup event %v, want code 488 failure insecure", h)
	}
}

// TestPlainBaresipToSRTPRequired: a plain baresip calls dialtone answer, which requires SRTP:
// 488 with a Warning before ringing, and an event that says the call was refused as insecure.
func TestPlainBaresipToSRTPRequired(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	alice := startDialtone(t, pw("alice"), append([]string{"answer", "--auto", "--json", "--audio", "null",
		"--media-encryption", "sdes-required"}, adhoc(k, "udp", "alice")...)...)
	alice.waitEvent("registered", 20*time.Second)
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), ToneHz: 600})
	if err := bob.Dial("sip:alice@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	h := alice.waitEvent("hangup", 15*time.Second)
	if h.str("failure") != "insecure" || h.num("code") != 488 || !strings.Contains(h.str("reason"), "SRTP required") {
		t.Errorf("hangup event %v, want 488 insecure naming the SRTP requirement", h)
	}
	closed, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second)
	if err != nil {
		t.Fatalf("baresip: %v\n%s", err, bob.Log())
	}
	if !strings.Contains(closed.Param, "488") {
		t.Errorf("baresip's call closed with %q, want the 488", closed.Param)
	}
	var refusal string
	for _, m := range bob.SIPTrace() {
		if !m.Sent && strings.HasPrefix(m.FirstLine(), "SIP/2.0 488") {
			refusal = m.Text
		}
	}
	if !strings.Contains(refusal, `Warning: 302 dialtone "SRTP required by policy"`) || !strings.Contains(refusal, "Reason: SIP ;cause=488") {
		t.Errorf("the 488 baresip received lacks the Warning or Reason naming the SRTP requirement:\n%s", refusal)
	}
}

// TestDefaultPolicyReachesSRTPOnlyBaresip: over TLS dialtone's default policy offers SRTP in
// the best-effort form (RTP/AVP with keys); a baresip that takes SRTP only as RTP/SAVP
// (srtp-mand) refuses that with 488, and dialtone offers again as RTP/SAVP with the same keys:
// the call is answered, encrypted, and carries audio both ways.
func TestDefaultPolicyReachesSRTPOnlyBaresip(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	bob := tlsBaresip(t, k, "bob", "srtp-mand", 700)
	tone, rec := makeTone(t, 1300, 20, 8000), filepath.Join(t.TempDir(), "from-bob.wav")
	code, evs, p := runDialtone(t, 40*time.Second, pw("alice"), append([]string{"call", "sip:bob@127.0.0.1", "--json",
		"--tls-ca", k.CAFile(), "--play", tone, "--record", rec, "--duration", "4s"}, adhoc(k, "tls", "alice")...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\nbaresip:\n%s", code, p.transcript(), bob.Log())
	}
	wantEncrypted(t, evs)
	var protos []string
	for _, sdp := range bob.ReceivedSDPs() {
		for _, l := range strings.Split(sdp, "\r\n") {
			if strings.HasPrefix(l, "m=audio ") {
				protos = append(protos, strings.Fields(l)[2])
			}
		}
	}
	if len(protos) < 2 || protos[0] != "RTP/AVP" || protos[1] != "RTP/SAVP" {
		t.Errorf("baresip received offers %v, want RTP/AVP (refused) then RTP/SAVP", protos)
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip saw no hangup: %v", err)
	}
	assertTone(t, rec, 700, 3)
	assertTone(t, lastRecording(t, bob), 1300, 3)
}
