package interop

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// startDoctorDNS runs dnsmasq on 127.0.0.1 at a free port, serving only the given records
// (dnsmasq flags such as --srv-host=...), nothing from the host's files or upstream. It
// returns host:port and stops dnsmasq at cleanup.
func startDoctorDNS(t *testing.T, records ...string) string {
	t.Helper()
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		bin = "/usr/sbin/dnsmasq"
	}
	if _, err := exec.LookPath(bin); err != nil {
		t.Skip("dnsmasq not installed (Debian package dnsmasq)")
	}
	for attempt := 0; attempt < 3; attempt++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		pc.Close()
		args := append([]string{"--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll",
			"--bind-interfaces", "--listen-address=127.0.0.1", fmt.Sprintf("--port=%d", port), "--pid-file=",
			"--log-facility=-", "--log-queries", "--local-ttl=60"}, records...)
		cmd := exec.Command(bin, args...)
		var out strings.Builder
		var mu sync.Mutex
		cmd.Stdout, cmd.Stderr = &lockedWriter{mu: &mu, w: &out}, &lockedWriter{mu: &mu, w: &out}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("dnsmasq: %v", err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		t.Cleanup(func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		})
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", addr)
		}}
		for range 50 {
			select {
			case <-done:
			default:
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				_, err := r.LookupNetIP(ctx, "ip4", "sip.example.test")
				cancel()
				if err == nil {
					return addr
				}
				time.Sleep(100 * time.Millisecond)
				continue
			}
			break
		}
		mu.Lock()
		t.Logf("dnsmasq attempt %d did not come up:\n%s", attempt+1, out.String())
		mu.Unlock()
	}
	t.Fatal("dnsmasq did not start")
	return ""
}

// TestDoctorDNSFailover: the registrar is a name; NAPTR points to SRV, whose first target (by
// priority) is dead and whose second is Kamailio. The report shows every record with its TTL,
// both targets, the dead one named in a warning, and REGISTER works by failing over: exit 0.
func TestDoctorDNSFailover(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadPort := dead.LocalAddr().(*net.UDPAddr).Port
	dead.Close() // nothing listens: ICMP port unreachable
	dns := startDoctorDNS(t,
		// Kamailio counts "localhost" as itself (it is the reverse name of its listening
		// address), so the name works as a registrar domain; the records live in dnsmasq only.
		`--naptr-record=localhost,10,10,S,SIP+D2U,,_sip._udp.localhost`,
		fmt.Sprintf("--srv-host=_sip._udp.localhost,dead.example.test,%d,10,0", deadPort),
		fmt.Sprintf("--srv-host=_sip._udp.localhost,sip.example.test,%d,20,0", k.Port("udp")),
		"--host-record=sip.example.test,127.0.0.1",
		"--host-record=dead.example.test,127.0.0.1",
	)
	r := runDoctor(t, pw("alice"), "--aor", "sip:alice@127.0.0.1", "--registrar", "sip:localhost", "--dns-server", dns)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.p.transcript())
	}
	d := r.check(t, "dns")
	recs, _ := facts(d)["records"].([]any)
	var text []string
	for _, x := range recs {
		m := x.(map[string]any)
		text = append(text, fmt.Sprintf("%v %v %v ttl=%v", m["type"], m["name"], m["value"], m["ttl"]))
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"NAPTR localhost", "SRV _sip._udp.localhost", fmt.Sprint(deadPort), fmt.Sprint(k.Port("udp")), "A sip.example.test 127.0.0.1"} {
		if !strings.Contains(all, want) {
			t.Errorf("DNS records lack %q:\n%s", want, all)
		}
	}
	for _, line := range text {
		if !strings.Contains(line, "no answer") && !strings.HasSuffix(line, "ttl=60") {
			t.Errorf("record without dnsmasq's TTL of 60 s: %s", line)
		}
	}
	tp := r.check(t, "transport-udp")
	if tp.str("status") != "warn" || !strings.Contains(tp.str("verdict"), fmt.Sprintf("127.0.0.1:%d", deadPort)) || !strings.Contains(tp.str("verdict"), "1 of 2") {
		t.Fatalf("transport-udp: %v", tp)
	}
	if reg := r.check(t, "register"); reg.str("status") != "ok" || facts(reg).num("code") != 200 {
		t.Fatalf("register did not fail over: %v", reg)
	}
}

// TestDoctorDNSUnknownName: a registrar name nobody knows is exit 4 with "cannot be resolved".
func TestDoctorDNSUnknownName(t *testing.T) {
	t.Parallel()
	dns := startDoctorDNS(t, "--host-record=sip.example.test,127.0.0.1")
	r := runDoctor(t, pw("alice"), "--aor", "sip:alice@nowhere.example.test", "--dns-server", dns)
	if r.code != 4 {
		t.Fatalf("exit %d\n%s", r.code, r.p.transcript())
	}
	d := r.check(t, "dns")
	if d.str("status") != "fail" || !strings.Contains(d.str("verdict"), "nowhere.example.test cannot be resolved") {
		t.Fatalf("dns: %v", d)
	}
}

// TestDoctorTLSNameMismatch: the registrar is reached by a name its certificate does not
// carry (Kamailio's is for localhost and 127.0.0.1). The chain is trusted (--tls-ca) but the
// TLS check fails naming both (RFC 5922: the certificate must match the SIP domain): exit 4.
func TestDoctorTLSNameMismatch(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	dns := startDoctorDNS(t, "--host-record=sip.example.test,127.0.0.1")
	r := runDoctor(t, pw("alice"), "--aor", "sip:alice@127.0.0.1", "--registrar", fmt.Sprintf("sip:sip.example.test:%d", k.Port("tls")),
		"--transport", "tls", "--tls-ca", k.CAFile(), "--dns-server", dns)
	if r.code != 4 {
		t.Fatalf("exit %d\n%s", r.code, r.p.transcript())
	}
	c := r.check(t, "tls")
	if c.str("status") != "fail" || !strings.Contains(c.str("verdict"), "localhost, 127.0.0.1, not for sip.example.test") ||
		!strings.Contains(c.str("fix"), "name") {
		t.Fatalf("tls: %v", c)
	}
}
