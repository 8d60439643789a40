package interop

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
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

// TestRegisterAndCallOverIPv6ThroughKamailio: Kamailio serves [::1]; two dialtones register
// there over UDP from their IPv6 socket (the Contact is an IPv6 address) and one calls the
// other through it, tones both ways; the SDP says IP6.
func TestRegisterAndCallOverIPv6ThroughKamailio(t *testing.T) {
	t.Parallel()
	if c, err := net.ListenPacket("udp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	} else {
		c.Close()
	}
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users, IP: "::1"})
	account := func(user string) []string {
		return []string{"--aor", "sip:" + user + "@" + k.Domain(), "--registrar", "sip:" + k.HostPort("udp")}
	}
	dir := t.TempDir()
	bobRec, aliceRec, trace := filepath.Join(dir, "bob.wav"), filepath.Join(dir, "alice.wav"), filepath.Join(dir, "sip.trace")
	bob := startDialtone(t, pw("bob"), append([]string{"answer", "--auto", "--json", "--play", makeTone(t, 700, 20, 8000),
		"--record", bobRec}, account("bob")...)...)
	reg := bob.waitEvent("registered", 20*time.Second)
	if !strings.Contains(reg.str("contact"), "[::1]") {
		t.Fatalf("bob registered %q, want an IPv6 Contact", reg.str("contact"))
	}
	if cs, err := k.Contacts("sip:bob@" + k.Domain()); err != nil || len(cs) != 1 || !strings.Contains(cs[0], "[::1]") {
		t.Fatalf("Kamailio's binding for bob: %v %v", cs, err)
	}
	code, evs, p := runDialtone(t, 40*time.Second, pw("alice"), append([]string{"call", "sip:bob@" + k.Domain(), "--json",
		"--play", makeTone(t, 1300, 20, 8000), "--record", aliceRec, "--duration", "4s", "--sip-trace", trace}, account("alice")...)...)
	if code != 0 {
		t.Fatalf("call over IPv6: exit %d %v\n%s\nbob:\n%s", code, names(evs), p.transcript(), bob.transcript())
	}
	if c, _ := bob.wait(20 * time.Second); c != 0 {
		t.Fatalf("answer exit %d\n%s", c, bob.transcript())
	}
	if sip := readFile(t, trace); !strings.Contains(sip, "c=IN IP6 ::1") {
		t.Fatalf("the offer does not carry an IPv6 address:\n%s", sip)
	}
	assertTone(t, aliceRec, 700, 3)
	assertTone(t, bobRec, 1300, 3)
}
