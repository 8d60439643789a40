package interop

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDirectCallOverIPv6: dialtone answers on [::1] and another dialtone calls it there; the
// SDP says IP6 and tones cross both ways over IPv6 loopback.
func TestDirectCallOverIPv6(t *testing.T) {
	t.Parallel()
	if c, err := net.ListenPacket("udp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	} else {
		c.Close()
	}
	bobRec := filepath.Join(t.TempDir(), "bob.wav")
	bob := startDialtone(t, nil, "answer", "--listen", "[::1]:0", "--auto", "--json", "--count", "1",
		"--play", makeTone(t, 700, 20, 8000), "--record", bobRec)
	l := bob.waitEvent("listening", 10*time.Second)
	addr := l.str("addr")
	if !strings.HasPrefix(addr, "[::1]:") {
		t.Fatalf("listening on %q, want [::1]:PORT", addr)
	}
	trace := filepath.Join(t.TempDir(), "sip.trace")
	aliceRec := filepath.Join(t.TempDir(), "alice.wav")
	code, evs, p := runDialtone(t, 30*time.Second, nil, "call", "sip:bob@"+addr, "--json", "--duration", "4s",
		"--play", makeTone(t, 1300, 20, 8000), "--record", aliceRec, "--sip-trace", trace)
	if code != 0 {
		t.Fatalf("call over IPv6: exit %d\n%s\nanswerer:\n%s", code, p.transcript(), bob.transcript())
	}
	if _, ok := findEvent(evs, "answered"); !ok {
		t.Fatalf("no answered event: %v", names(evs))
	}
	if c, _ := bob.wait(20 * time.Second); c != 0 {
		t.Fatalf("answer exit %d\n%s", c, bob.transcript())
	}
	sip := readFile(t, trace)
	if !strings.Contains(sip, "c=IN IP6 ::1") {
		t.Fatalf("our offer does not carry an IPv6 address:\n%s", sip)
	}
	assertTone(t, aliceRec, 700, 3)
	assertTone(t, bobRec, 1300, 3)
}
