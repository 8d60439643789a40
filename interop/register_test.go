package interop

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

var users = map[string]string{"alice": "alice-secret", "bob": "bob-secret"}

func adhoc(k *peers.Kamailio, transport, user string) []string {
	return []string{"--aor", "sip:" + user + "@127.0.0.1", "--registrar", "sip:" + k.HostPort(transport), "--transport", transport}
}

func pw(user string) []string { return []string{"DIALTONE_PASSWORD=" + users[user]} }

func TestRegisterOnceOverEachTransport(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	for _, tr := range []string{"udp", "tcp", "tls"} {
		t.Run(tr, func(t *testing.T) {
			args := append([]string{"register", "--once", "--json"}, adhoc(k, tr, "alice")...)
			if tr == "tls" {
				args = append(args, "--tls-ca", k.CAFile())
			}
			code, evs, p := runDialtone(t, 30*time.Second, pw("alice"), args...)
			if code != 0 {
				t.Fatalf("exit %d, want 0\n%s", code, p.transcript())
			}
			reg, ok := findEvent(evs, "registered")
			if !ok {
				t.Fatalf("no registered event: %v\n%s", names(evs), p.transcript())
			}
			if reg.str("account") != "cli" || reg.str("time") == "" || reg.num("expires") <= 0 {
				t.Errorf("registered event lacks account/time/expires: %v", reg)
			}
			if tr != "udp" && !strings.Contains(reg.str("contact"), "transport="+tr) {
				t.Errorf("contact %q does not say transport=%s", reg.str("contact"), tr)
			}
			if _, ok := findEvent(evs, "unregistered"); !ok {
				t.Errorf("--once did not unregister at exit: %v", names(evs))
			}
		})
	}
}

func TestRegisterSHA256Digest(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users, Algorithm: "SHA-256"})
	trace := filepath.Join(t.TempDir(), "trace.txt")
	args := append([]string{"register", "--once", "--json", "--sip-trace", trace}, adhoc(k, "udp", "bob")...)
	code, _, p := runDialtone(t, 30*time.Second, pw("bob"), args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, p.transcript())
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, "algorithm=SHA-256") || !strings.Contains(s, "Authorization: Digest") {
		t.Fatalf("trace shows no SHA-256 digest exchange:\n%s", s)
	}
	if strings.Contains(s, users["bob"]) {
		t.Fatal("the password appears in the SIP trace")
	}
	if !strings.Contains(s, " send UDP ") || !strings.Contains(s, " recv UDP ") {
		t.Fatal("trace lacks directions")
	}
}

func TestRegisterWrongPasswordStopsAfterTwoRegisters(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	before, err := k.Stat("rcv_requests_register")
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"register", "--once", "--json"}, adhoc(k, "udp", "alice")...)
	code, evs, p := runDialtone(t, 30*time.Second, []string{"DIALTONE_PASSWORD=wrong"}, args...)
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s", code, p.transcript())
	}
	f, ok := findEvent(evs, "registration_failed")
	if !ok || f.num("code") != 401 || f.str("failure") != "auth" {
		t.Fatalf("want registration_failed with code 401 and failure auth, got %v", evs)
	}
	if !strings.Contains(p.transcript(), "authentication failed") {
		t.Errorf("no message a person understands:\n%s", p.transcript())
	}
	after, err := k.Stat("rcv_requests_register")
	if err != nil {
		t.Fatal(err)
	}
	if n := after - before; n < 1 || n > 2 {
		t.Fatalf("Kamailio received %d REGISTERs, want 1..2", n)
	}
	if strings.Contains(p.transcript(), "wrong") {
		t.Fatal("the password appears in dialtone's output")
	}
}

func TestRegisterMissingPasswordIsAUsageError(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	args := append([]string{"register", "--once"}, adhoc(k, "udp", "alice")...)
	p := startDialtone(t, []string{"DIALTONE_PASSWORD="}, args...)
	code, _ := p.wait(30 * time.Second)
	if code != 2 || !strings.Contains(p.transcript(), "DIALTONE_PASSWORD") {
		t.Fatalf("exit %d, want 2 and a message naming DIALTONE_PASSWORD\n%s", code, p.transcript())
	}
}

func TestRegisterUntrustedTLSCertificate(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	args := append([]string{"register", "--once", "--json"}, adhoc(k, "tls", "alice")...)
	code, evs, p := runDialtone(t, 30*time.Second, pw("alice"), args...)
	if code != 4 {
		t.Fatalf("exit %d, want 4\n%s", code, p.transcript())
	}
	f, _ := findEvent(evs, "registration_failed")
	if !strings.Contains(f.str("reason"), "not trusted") || f.str("failure") != "network" {
		t.Fatalf("want a failure saying the certificate is not trusted, got %v\n%s", f, p.transcript())
	}
}

func TestRegisterSilentRegistrarIsANetworkFailure(t *testing.T) {
	t.Parallel()
	// A UDP socket that reads and never answers: the registrar "does not answer".
	sink, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := sink.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	start := time.Now()
	code, evs, p := runDialtone(t, 45*time.Second, pw("alice"), "register", "--once", "--json",
		"--aor", "sip:alice@127.0.0.1", "--registrar", "sip:"+sink.LocalAddr().String())
	elapsed := time.Since(start)
	if code != 4 {
		t.Fatalf("exit %d, want 4\n%s", code, p.transcript())
	}
	if elapsed > 40*time.Second {
		t.Fatalf("took %v, want at most 40s", elapsed)
	}
	f, _ := findEvent(evs, "registration_failed")
	if !strings.Contains(f.str("reason"), "no response") {
		t.Fatalf("want a failure saying there was no response, got %v", f)
	}
}

func TestRegisterRefreshesShortExpiryAndSIGINTUnregisters(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	args := append([]string{"register", "--json", "--expires", "4"}, adhoc(k, "udp", "alice")...)
	p := startDialtone(t, pw("alice"), args...)
	first := p.waitEvent("registered", 20*time.Second)
	if first.num("expires") != 4 {
		t.Fatalf("granted %v, want 4", first["expires"])
	}
	registeredAt := time.Now()
	// Over two lifetimes the binding must never lapse: refreshes keep it in the table.
	p.waitEvent("registered", 6*time.Second)
	p.waitEvent("registered", 6*time.Second)
	for time.Since(registeredAt) < 9*time.Second {
		cs, err := k.Contacts("sip:alice@127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 {
			t.Fatalf("%v after registering: bindings %v, want exactly 1", time.Since(registeredAt).Round(time.Millisecond), cs)
		}
		time.Sleep(250 * time.Millisecond)
	}
	p.signal(syscall.SIGINT)
	code, rest := p.wait(15 * time.Second)
	if code != 0 {
		t.Fatalf("exit %d after SIGINT, want 0\n%s", code, p.transcript())
	}
	if _, ok := findEvent(rest, "unregistered"); !ok {
		t.Fatalf("no unregistered event after SIGINT: %v", names(rest))
	}
	cs, err := k.Contacts("sip:alice@127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 0 {
		t.Fatalf("binding still in Kamailio's location table after SIGINT: %v", cs)
	}
}

func TestRegisterSeveralAccountsFromConfigFile(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "bob.pass")
	if err := os.WriteFile(pwFile, []byte(users["bob"]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.toml")
	conf := fmt.Sprintf(`
[[account]]
name = "home"
aor = "sip:alice@127.0.0.1"
registrar = "sip:%s"
password_cmd = "echo %s"

[[account]]
name = "work"
aor = "sip:bob@127.0.0.1"
registrar = "sip:%s"
transport = "tcp"
password_file = %q
`, k.HostPort("udp"), users["alice"], k.HostPort("tcp"), pwFile)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startDialtone(t, nil, "register", "--json", "--config", cfg)
	got := map[string]bool{}
	for len(got) < 2 {
		e := p.waitEvent("registered", 20*time.Second)
		got[e.str("account")] = true
	}
	for _, aor := range []string{"sip:alice@127.0.0.1", "sip:bob@127.0.0.1"} {
		if cs, err := k.Contacts(aor); err != nil || len(cs) != 1 {
			t.Fatalf("%s bindings %v (%v), want 1", aor, cs, err)
		}
	}
	p.signal(syscall.SIGTERM)
	if code, _ := p.wait(15 * time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM\n%s", code, p.transcript())
	}
	for _, aor := range []string{"sip:alice@127.0.0.1", "sip:bob@127.0.0.1"} {
		if cs, _ := k.Contacts(aor); len(cs) != 0 {
			t.Fatalf("%s still bound after SIGTERM: %v", aor, cs)
		}
	}
}

func TestBadConfigFileNamesFileLineAndKey(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, []byte("[[account]]\nname = \"x\"\naor = \"sip:a@b\"\ntransprot = \"udp\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, p := runDialtone(t, 10*time.Second, nil, "register", "--once", "--config", cfg)
	out := p.transcript()
	if code != 2 || !strings.Contains(out, cfg+":4") || !strings.Contains(out, "transprot") {
		t.Fatalf("exit %d, want 2 and an error naming %s:4 and the key\n%s", code, cfg, out)
	}
}

// TestRegisterKeepsTryingWhenARefreshIsRefused: `dialtone register` (no --once) is registered,
// then the registrar refuses the refresh (403 to the authenticated REGISTER:
// testdata/uas_register_then_refuse.xml). The same credentials worked before, so this is the
// provider's trouble (its user database down), not a wrong password: the account tries again
// in 10 minutes (retry_in 600) instead of giving up, and register keeps running until it is
// stopped, then exits 0 as a signal makes it. (It used to exit 3 there, and an account in the
// TUI stayed offline until a restart.)
func TestRegisterKeepsTryingWhenARefreshIsRefused(t *testing.T) {
	t.Parallel()
	s, p := registerWithSipp(t, "uas_register_then_refuse.xml")
	f := p.waitEvent("registration_failed", 15*time.Second)
	if f.str("failure") != "auth" || f.num("retry_in") != 600 {
		t.Fatalf("registration_failed %v, want failure auth and a retry in 600 s\n%s\nsipp:\n%s", f, p.transcript(), s.Messages())
	}
	p.signal(syscall.SIGINT)
	if code, _ := p.wait(20 * time.Second); code != 0 {
		t.Fatalf("exit %d after SIGINT, want 0\n%s", code, p.transcript())
	}
}

// TestRegisterRefreshesARewrittenContactInTime: a registrar that stores the address it saw us
// from instead of our Contact, and grants that binding 2 s in its expires parameter with no
// Expires header (testdata/uas_register_rewrites_contact.xml; NAT-aware SBCs grant short
// lifetimes so). dialtone refreshes within the 2 s: sipp gets its second REGISTER in time.
// It refreshed on the 600 s it asked for, and the binding lapsed after 2 s.
func TestRegisterRefreshesARewrittenContactInTime(t *testing.T) {
	t.Parallel()
	s, p := registerWithSipp(t, "uas_register_rewrites_contact.xml")
	if sc, err := s.Wait(15 * time.Second); err != nil || sc != 0 {
		t.Fatalf("sipp exit %d (%v): no refresh within the 2 s granted\n%s\nsipp:\n%s", sc, err, p.transcript(), s.Messages())
	}
	p.signal(syscall.SIGINT)
	if code, _ := p.wait(20 * time.Second); code != 0 {
		t.Fatalf("exit %d after SIGINT, want 0\n%s", code, p.transcript())
	}
}

// registerWithSipp runs sipp as the registrar with the scenario testdata/<scenario> and
// `dialtone register` as alice against it over UDP, and waits for the registration.
func registerWithSipp(t *testing.T, scenario string) (*peers.Sipp, *proc) {
	t.Helper()
	sf, err := filepath.Abs(filepath.Join("testdata", scenario))
	if err != nil {
		t.Fatal(err)
	}
	s := peers.StartSippUAS(t, peers.SippOptions{Scenario: sf})
	p := startDialtone(t, []string{"DIALTONE_PASSWORD=secret"}, "register", "--json",
		"--aor", "sip:alice@127.0.0.1", "--registrar", "sip:"+s.HostPort(), "--transport", "udp")
	p.waitEvent("registered", 15*time.Second)
	return s, p
}
