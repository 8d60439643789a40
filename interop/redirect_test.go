package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// redirectScenario is a sipp redirect server: every INVITE gets CODE with the Contacts
// CONTACTS (a forwarding service, a "follow me"), then the ACK.
const redirectScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="redirect">
  <recv request="INVITE" crlf="true"/>
  <send retrans="500">
    <![CDATA[

      SIP/2.0 CODE
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      CONTACTS
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
  <timewait milliseconds="200"/>
</scenario>
`

// startRedirector starts sipp answering its one INVITE with code and contacts.
func startRedirector(t *testing.T, code string, contacts ...string) *peers.Sipp {
	t.Helper()
	var hdrs []string
	for _, c := range contacts {
		hdrs = append(hdrs, "Contact: "+c)
	}
	xml := strings.NewReplacer("CODE", code, "CONTACTS", strings.Join(hdrs, "\n      ")).Replace(redirectScenario)
	path := filepath.Join(t.TempDir(), "redirect.xml")
	if err := os.WriteFile(path, []byte(xml), 0o600); err != nil {
		t.Fatal(err)
	}
	return peers.StartSippUAS(t, peers.SippOptions{Scenario: path})
}

// TestCallFollowsRedirect: `dialtone call` to a number whose server answers 302 Moved
// Temporarily goes on to the Contact it names (sipp's echo UAS), the same call (Call-ID): it
// prints `redirected`, is answered there, and its tone comes back from the new target. A 300
// whose best Contact (highest q) is busy moves on to the next one. Before, a 3xx ended the call
// as declined (exit 10).
func TestCallFollowsRedirect(t *testing.T) {
	t.Parallel()
	t.Run("302", func(t *testing.T) {
		t.Parallel()
		echo := peers.StartSippUAS(t, peers.SippOptions{Scenario: "uas_echo", RTPEcho: true})
		redirector := startRedirector(t, "302 Moved Temporarily", "<"+echo.URI("bob")+">")
		rec := filepath.Join(t.TempDir(), "echo.wav")
		code, evs, p := runDialtone(t, 30*time.Second, nil, "call", redirector.URI("alice"), "--json", "--audio", "null",
			"--play", makeTone(t, 600, 10, 8000), "--record", rec, "--duration", "3s")
		if code != 0 {
			t.Fatalf("exit %d, want 0 (answered at the 302's Contact)\n%s\nredirector:\n%s\necho:\n%s", code, p.transcript(), redirector.Messages(), echo.Messages())
		}
		r, ok := findEvent(evs, "redirected")
		if !ok || r.str("peer") != echo.URI("bob") || r.num("code") != 302 || r.str("redirected_from") != redirector.URI("alice") {
			t.Fatalf("redirected event %v, want peer %s, code 302, from %s", r, echo.URI("bob"), redirector.URI("alice"))
		}
		invites := append(redirector.Received("INVITE"), echo.Received("INVITE")...)
		if len(invites) != 2 || header(invites[0], "Call-ID") != header(invites[1], "Call-ID") {
			t.Fatalf("%d INVITEs, want one to each, of the same call:\n%s", len(invites), strings.Join(invites, "\n"))
		}
		assertToneFor(t, "the tone echoed by the redirect target", rec, 600)
	})
	t.Run("through Kamailio", func(t *testing.T) {
		// A forwarding service on the registrar, which challenges every INVITE: the
		// redirected INVITE goes the account's way again, its credentials answered for the
		// new Request-URI, and bob, registered there, answers; his tone reaches alice.
		t.Parallel()
		k := peers.StartKamailio(t, peers.KamailioOptions{Users: users, AuthCalls: true})
		bob := startDialtone(t, pw("bob"), append([]string{"answer", "--auto", "--json", "--audio", "null", "--play", makeTone(t, 700, 20, 8000)}, adhoc(k, "udp", "bob")...)...)
		bob.waitEvent("registered", 20*time.Second)
		rec := filepath.Join(t.TempDir(), "alice.wav")
		code, evs, p := runDialtone(t, 40*time.Second, pw("alice"), append([]string{"call", "sip:fwd-bob@127.0.0.1", "--json",
			"--audio", "null", "--record", rec, "--duration", "3s"}, adhoc(k, "udp", "alice")...)...)
		if code != 0 {
			t.Fatalf("exit %d, want 0 (forwarded to bob)\n%s\nbob:\n%s", code, p.transcript(), bob.transcript())
		}
		if r, ok := findEvent(evs, "redirected"); !ok || r.str("peer") != "sip:bob@127.0.0.1" || r.num("code") != 302 {
			t.Fatalf("redirected %v, want to sip:bob@127.0.0.1 by 302", r)
		}
		assertToneFor(t, "bob's tone, reached through the redirect", rec, 700)
	})
	t.Run("300 with the best busy", func(t *testing.T) {
		t.Parallel()
		busy := peers.StartSippUAS(t, peers.SippOptions{Scenario: "uas_busy"})
		echo := peers.StartSippUAS(t, peers.SippOptions{Scenario: "uas_echo", RTPEcho: true})
		redirector := startRedirector(t, "300 Multiple Choices",
			"<"+echo.URI("bob")+">;q=0.5", "<"+busy.URI("bob")+">;q=0.9", "<tel:+15550100>")
		code, evs, p := runDialtone(t, 30*time.Second, nil, "call", redirector.URI("alice"), "--json", "--audio", "null", "--duration", "1s")
		if code != 0 {
			t.Fatalf("exit %d, want 0 (answered at the second Contact)\n%s", code, p.transcript())
		}
		var went []string
		for _, e := range evs {
			if e.str("event") == "redirected" {
				went = append(went, e.str("peer"))
			}
		}
		if want := []string{busy.URI("bob"), echo.URI("bob")}; strings.Join(went, " ") != strings.Join(want, " ") {
			t.Fatalf("redirected to %v, want %v (best q first, the tel: URI left out)", went, want)
		}
		if a, ok := findEvent(evs, "answered"); !ok || a.str("peer") != echo.URI("bob") {
			t.Fatalf("answered %v, want by %s", a, echo.URI("bob"))
		}
	})
}
