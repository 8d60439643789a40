package interop

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// doctorReport is the one JSON document of `dialtone doctor --json`.
type doctorReport struct {
	event
	code int
	p    *proc
}

// check returns the check named name (e.g. "register", "transport-udp").
func (r doctorReport) check(t *testing.T, name string) event {
	t.Helper()
	list, _ := r.event["checks"].([]any)
	for _, x := range list {
		if m, ok := x.(map[string]any); ok && m["name"] == name {
			return event(m)
		}
	}
	t.Fatalf("no check %q in the report\n%s", name, r.p.transcript())
	return nil
}

func facts(c event) event { m, _ := c["facts"].(map[string]any); return event(m) }

func runDoctor(t *testing.T, env []string, args ...string) doctorReport {
	t.Helper()
	code, evs, p := runDialtone(t, 90*time.Second, env, append([]string{"doctor", "--json"}, args...)...)
	doc, ok := findEvent(evs, "doctor")
	if !ok {
		t.Fatalf("exit %d and no doctor document\n%s", code, p.transcript())
	}
	if len(evs) != 1 {
		t.Errorf("doctor printed %d JSON lines, want one document", len(evs))
	}
	if doc.str("time") == "" || doc.str("version") == "" || doc.num("exit_code") != float64(code) {
		t.Errorf("header: time %q version %q exit_code %v (exit %d)", doc.str("time"), doc.str("version"), doc["exit_code"], code)
	}
	return doctorReport{event: doc, code: code, p: p}
}

// TestDoctorKamailioEachTransport: against a healthy Kamailio over UDP, TCP and TLS (its CA
// given with --tls-ca) every check is ok or skipped, REGISTER gets 200 with a lifetime and the
// binding is removed again; over TLS the chain shows Kamailio's certificate.
func TestDoctorKamailioEachTransport(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	for _, tr := range []string{"udp", "tcp", "tls"} {
		t.Run(tr, func(t *testing.T) {
			args := adhoc(k, tr, "alice")
			if tr == "tls" {
				args = append(args, "--tls-ca", k.CAFile())
			}
			r := runDoctor(t, pw("alice"), args...)
			want := "ok"
			if tr == "tls" {
				want = "warn" // the harness's certificate lives two days: "expires in 48h"
			}
			if r.code != 0 || r.str("result") != want {
				t.Fatalf("exit %d result %q\n%s", r.code, r.str("result"), r.p.transcript())
			}
			tp := r.check(t, "transport-"+tr)
			rows, _ := facts(tp)["targets"].([]any)
			if tp.str("status") != "ok" || len(rows) != 1 || !strings.HasPrefix(fmt.Sprint(rows[0].(map[string]any)["answer"]), "200") {
				t.Fatalf("transport-%s: %v", tr, tp)
			}
			if rtt, _ := rows[0].(map[string]any)["rtt_ms"].(float64); rtt <= 0 {
				t.Errorf("no round-trip time: %v", rows[0])
			}
			reg := r.check(t, "register")
			f := facts(reg)
			if reg.str("status") != "ok" || f.num("code") != 200 || f.num("expires") <= 0 || !strings.Contains(f.str("contact"), "alice@") {
				t.Fatalf("register: %v", reg)
			}
			if !strings.HasPrefix(f.str("unregister"), "done") {
				t.Errorf("binding not removed: %v", f)
			}
			if tr == "udp" && f.str("nat") != "none seen by the registrar" {
				t.Errorf("NAT on loopback: %q", f.str("nat"))
			}
			if _, err := os.Stat(k.CAFile()); err != nil {
				t.Fatal(err)
			}
			tl := r.check(t, "tls")
			if tr != "tls" {
				return
			}
			chain, _ := facts(tl)["chain"].([]any)
			if tl.str("status") != "warn" || !strings.Contains(tl.str("verdict"), "expires in") || len(chain) == 0 || facts(tl).str("verification") != "ok" {
				t.Fatalf("tls: %v", tl)
			}
			if subj := fmt.Sprint(chain[0].(map[string]any)["subject"]); !strings.Contains(subj, "localhost") {
				t.Errorf("chain subject %q", subj)
			}
		})
	}
}

// TestDoctorTLSUntrusted: without --tls-ca Kamailio's self-signed certificate is not trusted:
// the TLS check fails with the reason and the fix, and the exit code is 4 (network/TLS).
func TestDoctorTLSUntrusted(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	r := runDoctor(t, pw("alice"), adhoc(k, "tls", "alice")...)
	if r.code != 4 || r.str("failure") != "network" {
		t.Fatalf("exit %d failure %q, want 4 network\n%s", r.code, r.str("failure"), r.p.transcript())
	}
	tl := r.check(t, "tls")
	if tl.str("status") != "fail" || !strings.Contains(tl.str("verdict"), "not trusted") ||
		!strings.Contains(tl.str("verdict"), "unknown authority") || !strings.Contains(tl.str("fix"), "--tls-ca FILE") {
		t.Fatalf("tls check: %v", tl)
	}
	if reg := r.check(t, "register"); reg.str("status") != "skipped" {
		t.Errorf("register ran past an untrusted certificate: %v", reg)
	}
	// The server is there all the same: OPTIONS went through the untrusted handshake.
	if tp := r.check(t, "transport-tls"); tp.str("status") != "ok" {
		t.Errorf("transport-tls: %v", tp)
	}
}

// TestDoctorWrongPassword: exit 3 and, in the text report, the verdict in plain words.
func TestDoctorWrongPassword(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	args := append([]string{"doctor"}, adhoc(k, "udp", "alice")...)
	code, _, p := runDialtone(t, 60*time.Second, []string{"DIALTONE_PASSWORD=not-the-password"}, args...)
	out := p.transcript()
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s", code, out)
	}
	for _, want := range []string{"[FAIL] register", "the registrar rejected the credentials (401", `user "alice"`, "fix:", "result: fail (exit 3)"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q\n%s", want, out)
		}
	}
	if strings.Contains(out, "not-the-password") {
		t.Fatal("the password appears in the report")
	}
}

// TestDoctorDeadRegistrar: a registrar that is silent (a socket that never answers) and one
// whose port is closed both give exit 4 with the target named; REGISTER is then skipped.
func TestDoctorDeadRegistrar(t *testing.T) {
	t.Parallel()
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	closed, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.LocalAddr().String()
	closed.Close()
	for _, tc := range []struct{ name, addr, want string }{
		{"silent", silent.LocalAddr().String(), "no answer (timeout)"},
		{"closed", closedAddr, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r := runDoctor(t, pw("alice"), "--aor", "sip:alice@127.0.0.1", "--registrar", "sip:"+tc.addr)
			if r.code != 4 {
				t.Fatalf("exit %d, want 4\n%s", r.code, r.p.transcript())
			}
			tp := r.check(t, "transport-udp")
			if tp.str("status") != "fail" || !strings.Contains(tp.str("verdict"), tc.addr) || !strings.Contains(tp.str("verdict"), tc.want) {
				t.Fatalf("transport-udp: %v", tp)
			}
			if reg := r.check(t, "register"); reg.str("status") != "skipped" {
				t.Errorf("register ran against a dead registrar: %v", reg)
			}
			t.Logf("%s registrar diagnosed in %v", tc.name, time.Since(start).Round(100*time.Millisecond))
		})
	}
}

// TestDoctorMissingPassword: a password source that gives nothing is a config failure (exit 2)
// found before anything is sent.
func TestDoctorMissingPassword(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	r := runDoctor(t, nil, adhoc(k, "udp", "alice")...)
	if r.code != 2 || r.str("failure") != "config" {
		t.Fatalf("exit %d failure %q\n%s", r.code, r.str("failure"), r.p.transcript())
	}
	if c := r.check(t, "config"); !strings.Contains(c.str("verdict"), "DIALTONE_PASSWORD is not set") {
		t.Fatalf("config: %v", c)
	}
}

// TestDoctorSTUNWithOtherAddress: coturn on 127.0.0.1 and 127.0.0.2 (RFC 5780): the NAT check
// maps one socket through both addresses and, on loopback, finds no NAT.
func TestDoctorSTUNWithOtherAddress(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	stun := peers.StartCoturn(t, peers.CoturnOptions{ListenIPs: []string{"127.0.0.1", "127.0.0.2"}})
	cfg := filepath.Join(t.TempDir(), "config.toml")
	body := fmt.Sprintf("[sip]\nstun_server = %q\n\n[[account]]\nname = \"home\"\naor = \"sip:alice@127.0.0.1\"\nregistrar = \"sip:%s\"\npassword_env = \"DIALTONE_PASSWORD\"\n",
		stun.Addr(0), k.HostPort("udp"))
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runDoctor(t, pw("alice"), "--config", cfg, "home")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.p.transcript())
	}
	n := r.check(t, "nat")
	f := facts(n)
	if n.str("status") != "ok" || f.str("kind") != "open" || f.str("mapped") != f.str("local") {
		t.Fatalf("nat: %v", n)
	}
	if !strings.HasPrefix(f.str("other_address"), "127.0.0.2:") || !strings.Contains(f.str("mapped_via_other"), f.str("local")) {
		t.Fatalf("no RFC 5780 second mapping: %v", f)
	}
	if !strings.HasPrefix(f.str("registrar_sees"), f.str("local")) {
		t.Errorf("registrar's view: %q, local %q", f.str("registrar_sees"), f.str("local"))
	}
	if r.str("account") != "home" || facts(r.check(t, "config")).str("stun_server") != stun.Addr(0) {
		t.Errorf("account %q, config %v", r.str("account"), r.check(t, "config"))
	}
}
