package interop

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestFlowKilledMidRegistrationComesBack: dialtone registers over TCP (and TLS) at Kamailio,
// pings the connection (Kamailio answers each CRLFCRLF with a CRLF), then the connection is
// destroyed under it (ss -K: the kernel aborts our socket and resets Kamailio's). The
// registration must come back on a new connection within seconds, with the "recovering"
// state in between, leave exactly one binding in Kamailio's location table, and an incoming
// call from baresip must still reach dialtone, with audio.
func TestFlowKilledMidRegistrationComesBack(t *testing.T) {
	t.Parallel()
	if err := socketDestroyWorks(); err != nil {
		t.Skipf("ss -K cannot destroy sockets here (needs root and CONFIG_INET_DIAG_DESTROY): %v", err)
	}
	for _, tr := range []string{"tcp", "tls"} {
		t.Run(tr, func(t *testing.T) {
			// A Kamailio each: one binding means one, whatever the other transport left.
			flowRecovery(t, peers.StartKamailio(t, peers.KamailioOptions{Users: users}), tr)
		})
	}
}

func flowRecovery(t *testing.T, k *peers.Kamailio, tr string) {
	const aor = "sip:alice@127.0.0.1"
	dir := t.TempDir()
	logFile, rec := filepath.Join(dir, "dialtone.log"), filepath.Join(dir, "from-bob.wav")
	args := append([]string{"answer", "--auto", "--count", "1", "--json", "--keepalive", "2s",
		"--log-file", logFile, "--log-level", "debug", "--play", makeTone(t, 1100, 20, 16000), "--record", rec},
		adhoc(k, tr, "alice")...)
	if tr == "tls" {
		args = append(args, "--tls-ca", k.CAFile())
	}
	alice := startDialtone(t, pw("alice"), args...)
	first := alice.waitEvent("registered", 20*time.Second)
	oldFlow := contactHostPort(t, first.str("contact"))

	// Kamailio answers our pings (RFC 5626 pong): the keeper logs each answered one.
	eventually(t, 10*time.Second, "a keep-alive answered by Kamailio", func() (bool, string) {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), "keep-alive answered"), "no answered keep-alive in the log"
	})

	_, sport, _ := net.SplitHostPort(oldFlow)
	kport := strconv.Itoa(k.Port(tr))
	killedAt := time.Now()
	out, err := exec.Command("ss", "-K", "-t", "src", "127.0.0.1", "sport", "=", sport, "dst", "127.0.0.1", "dport", "=", kport).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "127.0.0.1:"+sport) {
		t.Fatalf("ss -K did not destroy our connection %s -> %s: %v\n%s", oldFlow, kport, err, out)
	}
	recovering := alice.waitEvent("recovering", 10*time.Second)
	noticed := time.Since(killedAt)
	if !strings.Contains(recovering.str("reason"), "closed") {
		t.Errorf("recovering reason %q, want it to say the connection closed", recovering.str("reason"))
	}
	again := alice.waitEvent("registered", 15*time.Second)
	took := time.Since(killedAt)
	t.Logf("%s: connection destroyed; recovering after %v, registered again after %v", tr,
		noticed.Round(time.Millisecond), took.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("recovery took %v, want a few seconds", took)
	}
	newFlow := contactHostPort(t, again.str("contact"))
	if newFlow == oldFlow {
		t.Fatalf("registered again on the dead connection's address %s", newFlow)
	}

	// Exactly one binding: the new connection's (the old one was removed in the same REGISTER).
	eventually(t, 5*time.Second, "one binding, the new connection's", func() (bool, string) {
		cs, err := k.Contacts(aor)
		if err != nil {
			return false, err.Error()
		}
		return len(cs) == 1 && contactHostPort(t, cs[0]) == newFlow, strings.Join(cs, ", ")
	})

	// An incoming call still reaches dialtone, down the new connection, with audio both ways.
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), ToneHz: 600})
	baresipCallsAnswerer(t, bob, alice, aor)
	assertTone(t, rec, 600, 2)
	assertTone(t, lastRecording(t, bob), 1100, 2)
}

// TestFlowThatStopsAnsweringIsReplaced: the registrar stops answering (Kamailio frozen with
// SIGSTOP: the kernel still acknowledges TCP, so only the missing CRLF pong tells). dialtone
// must give the connection up 10 s after an unanswered ping, say "recovering", and register
// on a new connection as soon as the registrar answers again, leaving one binding.
func TestFlowThatStopsAnsweringIsReplaced(t *testing.T) {
	t.Parallel()
	const aor = "sip:alice@127.0.0.1"
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	logFile := filepath.Join(t.TempDir(), "dialtone.log")
	alice := startDialtone(t, pw("alice"), append([]string{"register", "--json", "--keepalive", "2s",
		"--log-file", logFile, "--log-level", "debug"}, adhoc(k, "tcp", "alice")...)...)
	oldFlow := contactHostPort(t, alice.waitEvent("registered", 20*time.Second).str("contact"))
	eventually(t, 10*time.Second, "a keep-alive answered by Kamailio", func() (bool, string) {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), "keep-alive answered"), "no answered keep-alive in the log"
	})
	if err := k.Pause(); err != nil {
		t.Fatal(err)
	}
	pausedAt := time.Now()
	recovering := alice.waitEvent("recovering", 20*time.Second)
	noticed := time.Since(pausedAt)
	if !strings.Contains(recovering.str("reason"), "did not answer a keep-alive within 10s") {
		t.Errorf("recovering reason %q, want the unanswered keep-alive", recovering.str("reason"))
	}
	// The next ping leaves within 2 s of the pause, and its pong is due 10 s later.
	if noticed < 10*time.Second || noticed > 14*time.Second {
		t.Errorf("the silent flow was given up after %v, want 10 to 14 s", noticed)
	}
	if err := k.Resume(); err != nil {
		t.Fatal(err)
	}
	again := alice.waitEvent("registered", 20*time.Second)
	t.Logf("paused: recovering after %v, registered again %v after the resume", noticed.Round(time.Millisecond),
		(time.Since(pausedAt) - noticed).Round(time.Millisecond))
	newFlow := contactHostPort(t, again.str("contact"))
	if newFlow == oldFlow {
		t.Fatalf("registered again on the silent connection %s", newFlow)
	}
	eventually(t, 5*time.Second, "one binding, the new connection's", func() (bool, string) {
		cs, err := k.Contacts(aor)
		if err != nil {
			return false, err.Error()
		}
		return len(cs) == 1 && contactHostPort(t, cs[0]) == newFlow, strings.Join(cs, ", ")
	})
	alice.signal(syscall.SIGINT)
	if code, _ := alice.wait(15 * time.Second); code != 0 {
		t.Fatalf("exit %d after SIGINT\n%s", code, alice.transcript())
	}
}

// contactHostPort is the host:port of a contact URI such as
// "sip:alice@127.0.0.1:40000;transport=tcp".
func contactHostPort(t *testing.T, contact string) string {
	t.Helper()
	s := strings.TrimPrefix(strings.Trim(contact, "<>"), "sip:")
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexAny(s, ";>"); i >= 0 {
		s = s[:i]
	}
	if _, _, err := net.SplitHostPort(s); err != nil {
		t.Fatalf("contact %q has no host:port: %v", contact, err)
	}
	return s
}

// socketDestroyWorks destroys one end of a loopback TCP connection of its own with ss -K and
// checks that the other end sees the reset.
func socketDestroyWorks() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := l.Accept()
	if err != nil {
		return err
	}
	defer s.Close()
	_, sport, _ := net.SplitHostPort(c.LocalAddr().String())
	_, dport, _ := net.SplitHostPort(l.Addr().String())
	if out, err := exec.Command("ss", "-K", "-t", "src", "127.0.0.1", "sport", "=", sport, "dst", "127.0.0.1", "dport", "=", dport).CombinedOutput(); err != nil {
		return fmt.Errorf("ss -K: %v %s", err, out)
	}
	s.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := s.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("the connection survived ss -K (read: %v)", err)
	}
	return nil
}
