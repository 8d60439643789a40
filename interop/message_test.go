package interop

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

const utf8Text = "héllo ✓ — ünïcode 🎧"

// TestMessageToSipp: a direct MESSAGE to sipp; the exact UTF-8 text arrives.
func TestMessageToSipp(t *testing.T) {
	t.Parallel()
	s := peers.StartSippUAS(t, peers.SippOptions{Scenario: "uas_message_check"})
	code, evs, p := runDialtone(t, 20*time.Second, nil, "message", s.URI("bob"), utf8Text, "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, p.transcript(), s.Messages())
	}
	if e, ok := findEvent(evs, "message_sent"); !ok || e.num("code") != 200 {
		t.Fatalf("no message_sent with code 200: %v", evs)
	}
	if _, err := s.Wait(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	log := s.ActionLog()
	if !strings.Contains(log, "MESSAGE-BODY: "+utf8Text) && !strings.Contains(log, "MESSAGE-BODY:"+utf8Text) {
		t.Fatalf("sipp did not receive the text intact:\n%s", log)
	}
	if !strings.Contains(strings.ToLower(log), "text/plain;charset=utf-8") {
		t.Fatalf("content type not text/plain;charset=utf-8:\n%s", log)
	}
}

// TestMessageBetweenDialtonesThroughKamailio: one dialtone registers, another sends it a
// message through Kamailio (with 407 proxy authentication on MESSAGE); the first prints it.
// Unknown users give exit 13, a wrong password 3.
func TestMessageBetweenDialtonesThroughKamailio(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users, AuthCalls: true})
	bob := startDialtone(t, pw("bob"), append([]string{"register", "--json"}, adhoc(k, "udp", "bob")...)...)
	bob.waitEvent("registered", 20*time.Second)
	code, _, p := runDialtone(t, 20*time.Second, pw("alice"), append([]string{"message", "sip:bob@127.0.0.1", utf8Text, "--json"}, adhoc(k, "udp", "alice")...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, p.transcript())
	}
	got := bob.waitEvent("message_received", 10*time.Second)
	if got.str("text") != utf8Text || !strings.Contains(got.str("from"), "alice") {
		t.Fatalf("bob got %v, want %q from alice", got, utf8Text)
	}
	// Standard input as the text.
	code, _, p = runDialtoneStdin(t, "from stdin ✓\n", pw("alice"), append([]string{"message", "sip:bob@127.0.0.1", "-"}, adhoc(k, "udp", "alice")...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, p.transcript())
	}
	if got := bob.waitEvent("message_received", 10*time.Second); got.str("text") != "from stdin ✓" {
		t.Fatalf("bob got %q from stdin", got.str("text"))
	}
	// Too long for one UDP datagram (RFC 3261 §18.1.1): alice's UDP account sends it to
	// Kamailio by TCP, challenge and all, and Kamailio hands it on to bob's UDP binding.
	long := strings.Repeat("long ✓ ", 4000/len("long ✓ "))
	trace := filepath.Join(t.TempDir(), "sip.txt")
	code, _, p = runDialtone(t, 20*time.Second, pw("alice"), append([]string{"message", "sip:bob@127.0.0.1", long, "--json", "--sip-trace", trace}, adhoc(k, "udp", "alice")...)...)
	if code != 0 {
		t.Fatalf("a %d-byte message: exit %d\n%s", len(long), code, p.transcript())
	}
	if b, err := os.ReadFile(trace); err != nil || !regexp.MustCompile(`(?m)^=== \S+ send TCP .*\nMESSAGE `).Match(b) {
		t.Fatalf("the long message did not go by TCP (%v):\n%s", err, b)
	}
	if got := bob.waitEvent("message_received", 10*time.Second); got.str("text") != long {
		t.Fatalf("bob got %d bytes of the %d-byte message", len(got.str("text")), len(long))
	}
	for _, c := range []struct {
		name, to, password string
		want               int
	}{
		{"unknown user", "sip:nobody@127.0.0.1", users["alice"], 13},
		{"wrong password", "sip:bob@127.0.0.1", "wrong", 3},
	} {
		code, evs, p := runDialtone(t, 20*time.Second, []string{"DIALTONE_PASSWORD=" + c.password},
			append([]string{"message", c.to, "x", "--json"}, adhoc(k, "udp", "alice")...)...)
		if code != c.want {
			t.Fatalf("%s: exit %d, want %d\n%s", c.name, code, c.want, p.transcript())
		}
		if _, ok := findEvent(evs, "message_failed"); !ok {
			t.Fatalf("%s: no message_failed event: %v", c.name, names(evs))
		}
	}
	bob.signal(sigterm)
	bob.wait(15 * time.Second)
}

// TestHistoryKeepsMessagesAndCallsAcrossRestarts: what was sent, received and called is listed
// by dialtone history after the processes ended.
func TestHistoryKeepsMessagesAndCallsAcrossRestarts(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	aliceDir, bobDir := t.TempDir(), t.TempDir()
	bob := startDialtone(t, pw("bob"), append([]string{"register", "--json", "--data-dir", bobDir}, adhoc(k, "udp", "bob")...)...)
	bob.waitEvent("registered", 20*time.Second)
	if code, _, p := runDialtone(t, 20*time.Second, pw("alice"), append([]string{"message", "sip:bob@127.0.0.1", utf8Text, "--data-dir", aliceDir}, adhoc(k, "udp", "alice")...)...); code != 0 {
		t.Fatalf("message exit %d\n%s", code, p.transcript())
	}
	bob.waitEvent("message_received", 10*time.Second)
	bob.signal(sigterm)
	if code, _ := bob.wait(15 * time.Second); code != 0 {
		t.Fatalf("register exit %d", code)
	}
	if code, _, p := runDialtone(t, 20*time.Second, nil, "call", "echo", "--audio", "null", "--duration", "1s", "--data-dir", aliceDir); code != 0 {
		t.Fatalf("echo exit %d\n%s", code, p.transcript())
	}

	code, evs, p := runDialtone(t, 10*time.Second, nil, "history", "--messages", "--json", "--data-dir", bobDir)
	if code != 0 || len(evs) != 1 {
		t.Fatalf("bob's history: exit %d, %d rows\n%s", code, len(evs), p.transcript())
	}
	if m := evs[0]; m.name() != "message" || m.str("text") != utf8Text || m.str("direction") != "incoming" || !strings.Contains(m.str("peer"), "alice") {
		t.Fatalf("bob's history row %v", m)
	}
	code, evs, p = runDialtone(t, 10*time.Second, nil, "history", "--json", "--data-dir", aliceDir)
	if code != 0 {
		t.Fatalf("alice's history: exit %d\n%s", code, p.transcript())
	}
	sent, call := false, false
	for _, e := range evs {
		switch {
		case e.name() == "message" && e.str("direction") == "outgoing" && e.str("status") == "sent" && e.str("text") == utf8Text:
			sent = true
		case e.name() == "call" && e.str("direction") == "outgoing" && e.num("duration") >= 0.9:
			call = true
		}
	}
	if !sent || !call {
		t.Fatalf("alice's history lacks the sent message (%v) or the call (%v): %v", sent, call, evs)
	}
	code, evs, _ = runDialtone(t, 10*time.Second, nil, "history", "--calls", "--json", "--peer", "sip:bob@127.0.0.1", "--data-dir", aliceDir)
	if code != 0 || len(evs) != 0 {
		t.Fatalf("--peer bob --calls should list nothing (alice only called echo): %v", evs)
	}
}
