package interop

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
	"github.com/dialtone/dialtone/phone/phonetest"
)

// The SRV tests serve the domain dns.test from a real dnsmasq on loopback: only dnsmasq knows
// it, so dialtone finds its registrars through --dns-server or not at all.
const dnsDomain = "dns.test"

// TestDNSSRVFailoverToTheSecondRegistrar: two Kamailio registrars for dns.test; the priority
// 10 one is dead (stopped: its port refuses), the priority 20 one alive. dialtone registers at
// the second at once, and a call (tones both ways) and a message to baresip registered there
// fail over the same way.
func TestDNSSRVFailoverToTheSecondRegistrar(t *testing.T) {
	t.Parallel()
	first := peers.StartKamailio(t, peers.KamailioOptions{Users: users, Domain: dnsDomain})
	second := peers.StartKamailio(t, peers.KamailioOptions{Users: users, Domain: dnsDomain})
	first.Stop() // dead: nothing listens on its port any more
	d := srvSet(t, first.Port("udp"), second.Port("udp"))

	start := time.Now()
	code, evs, p := runDialtone(t, 30*time.Second, pw("alice"), append([]string{"register", "--once", "--json"}, dnsAccount(d, "alice")...)...)
	took := time.Since(start)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s\ndnsmasq:\n%s", code, p.transcript(), d.Log())
	}
	if _, ok := findEvent(evs, "registered"); !ok {
		t.Fatalf("no registered event: %v\n%s", names(evs), p.transcript())
	}
	t.Logf("register --once with the first SRV target refusing: %v (process start to exit, unregister included)", took)
	if took > 5*time.Second {
		t.Errorf("took %v; a refusing target must be left at once", took)
	}
	if !strings.Contains(d.Log(), "query[SRV] _sip._udp."+dnsDomain) {
		t.Errorf("dnsmasq was not asked for the SRV record:\n%s", d.Log())
	}

	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: second.HostPort("udp"),
		Domain: dnsDomain, AutoAnswer: true, ToneHz: 700, Contacts: []string{"sip:alice@" + dnsDomain}})
	tone := makeTone(t, 1300, 20, 8000)
	rec := filepath.Join(t.TempDir(), "from-bob.wav")
	callLog := filepath.Join(t.TempDir(), "call.log")
	start = time.Now()
	code, evs, p = runDialtone(t, 40*time.Second, pw("alice"), append([]string{"call", "sip:bob@" + dnsDomain, "--json",
		"--play", tone, "--record", rec, "--duration", "4s", "--log-file", callLog}, dnsAccount(d, "alice")...)...)
	callTook := time.Since(start)
	if code != 0 {
		t.Fatalf("call: exit %d\n%s\nbaresip:\n%s", code, p.transcript(), bob.Log())
	}
	if a, ok := findEvent(evs, "answered"); !ok || a.str("codec") == "" {
		t.Fatalf("no answered event: %v", names(evs))
	}
	t.Logf("call past the refusing first target: %v from start to exit, of which 4 s talk", callTook)
	assertFailedOver(t, callLog, first.Port("udp"))
	assertTone(t, rec, 700, 3)                    // dialtone heard baresip
	assertTone(t, lastRecording(t, bob), 1300, 3) // baresip heard dialtone

	const text = "failed over ✓"
	msgLog := filepath.Join(t.TempDir(), "message.log")
	code, _, p = runDialtone(t, 20*time.Second, pw("alice"), append([]string{"message", "sip:bob@" + dnsDomain, text, "--json", "--log-file", msgLog}, dnsAccount(d, "alice")...)...)
	if code != 0 {
		t.Fatalf("message: exit %d\n%s", code, p.transcript())
	}
	assertFailedOver(t, msgLog, first.Port("udp"))
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(bob.Log(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("baresip did not show %q:\n%s", text, bob.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDNSSRVFailoverPastABlackhole: the first target takes packets and answers nothing (no
// ICMP either), so only the per-target timeout moves on, within seconds rather than SIP's 32.
func TestDNSSRVFailoverPastABlackhole(t *testing.T) {
	t.Parallel()
	live := peers.StartKamailio(t, peers.KamailioOptions{Users: users, Domain: dnsDomain})
	hole := blackholePort(t)
	d := srvSet(t, hole, live.Port("udp"))
	start := time.Now()
	code, evs, p := runDialtone(t, 30*time.Second, pw("alice"), append([]string{"register", "--once", "--json"}, dnsAccount(d, "alice")...)...)
	took := time.Since(start)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, p.transcript())
	}
	if _, ok := findEvent(evs, "registered"); !ok {
		t.Fatalf("no registered event: %v", names(evs))
	}
	t.Logf("register --once with the first SRV target blackholed: %v", took)
	if took < 4*time.Second || took > 10*time.Second {
		t.Errorf("took %v; want the per-target timeout (5 s) and little more", took)
	}

	// A call moves on the same way: no provisional response from the blackhole in 5 s.
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: live.HostPort("udp"),
		Domain: dnsDomain, AutoAnswer: true, ToneHz: 700})
	rec := filepath.Join(t.TempDir(), "from-bob.wav")
	callLog := filepath.Join(t.TempDir(), "call.log")
	start = time.Now()
	code, evs, p = runDialtone(t, 40*time.Second, pw("alice"), append([]string{"call", "sip:bob@" + dnsDomain, "--json",
		"--play", makeTone(t, 1300, 20, 8000), "--record", rec, "--duration", "3s", "--log-file", callLog}, dnsAccount(d, "alice")...)...)
	took = time.Since(start)
	if code != 0 {
		t.Fatalf("call: exit %d\n%s\nbaresip:\n%s", code, p.transcript(), bob.Log())
	}
	if _, ok := findEvent(evs, "answered"); !ok {
		t.Fatalf("no answered event: %v", names(evs))
	}
	t.Logf("call past the blackholed first target: %v from start to exit, of which 3 s talk", took)
	if took > 3*time.Second+attemptBudget {
		t.Errorf("call took %v", took)
	}
	assertFailedOver(t, callLog, hole)
	assertTone(t, rec, 700, 2)
}

// attemptBudget is what a test allows for one per-target timeout (5 s) plus setting up.
const attemptBudget = 8 * time.Second

// TestDNSNAPTRTCPFailoverPastRefusedAndBlackholed: NAPTR says SIP over TCP; of the SRV set the
// first target refuses connections, the second drops SYNs (a full accept queue on loopback),
// the third is Kamailio over TCP. dialtone registers there.
func TestDNSNAPTRTCPFailoverPastRefusedAndBlackholed(t *testing.T) {
	t.Parallel()
	live := peers.StartKamailio(t, peers.KamailioOptions{Users: users, Domain: dnsDomain})
	refused, hole := deadPort(t), phonetest.BlackholeTCP(t)
	opts := peers.DnsmasqOptions{Hosts: map[string][]string{}, TTL: 30,
		NAPTR: []peers.NAPTRRecord{{Name: dnsDomain, Order: 10, Preference: 10, Flags: "s", Service: "SIP+D2T", Replacement: "_sip._tcp." + dnsDomain}}}
	for i, port := range []int{refused, hole, live.Port("tcp")} {
		host := "tcp" + strconv.Itoa(i+1) + "." + dnsDomain
		opts.Hosts[host] = []string{"127.0.0.1"}
		opts.SRV = append(opts.SRV, peers.SRVRecord{Name: "_sip._tcp." + dnsDomain, Target: host, Port: port, Priority: 10 * (i + 1)})
	}
	d := peers.StartDnsmasq(t, opts)
	logFile := filepath.Join(t.TempDir(), "register.log")
	start := time.Now()
	code, evs, p := runDialtone(t, 40*time.Second, pw("alice"), "register", "--once", "--json", "--log-file", logFile,
		"--aor", "sip:alice@"+dnsDomain, "--transport", "tcp", "--dns-server", d.Addr())
	took := time.Since(start)
	if code != 0 {
		t.Fatalf("exit %d\n%s\ndnsmasq:\n%s", code, p.transcript(), d.Log())
	}
	reg, ok := findEvent(evs, "registered")
	if !ok || !strings.Contains(reg.str("contact"), "transport=tcp") {
		t.Fatalf("registered: %v %v", reg, names(evs))
	}
	t.Logf("TCP via NAPTR: refused, blackholed, live: registered and unregistered in %v", took)
	if took < 4*time.Second || took > attemptBudget+2*time.Second {
		t.Errorf("took %v; want one per-target timeout for the blackhole, none for the refusal", took)
	}
	assertFailedOver(t, logFile, refused)
	assertFailedOver(t, logFile, hole)
	if !strings.Contains(d.Log(), "query[NAPTR] "+dnsDomain) {
		t.Errorf("no NAPTR query in dnsmasq's log:\n%s", d.Log())
	}
}

// TestDNSSRVNoReachableTargetIsExit4: a refusing and a silent target and nothing else: exit 4
// (network), and the failure names both targets and what happened at each.
func TestDNSSRVNoReachableTargetIsExit4(t *testing.T) {
	t.Parallel()
	dead, hole := deadPort(t), blackholePort(t)
	d := srvSet(t, dead, hole)
	start := time.Now()
	code, evs, p := runDialtone(t, 30*time.Second, pw("alice"), append([]string{"register", "--once", "--json"}, dnsAccount(d, "alice")...)...)
	took := time.Since(start)
	if code != 4 {
		t.Fatalf("exit %d, want 4\n%s", code, p.transcript())
	}
	f, ok := findEvent(evs, "registration_failed")
	if !ok {
		t.Fatalf("no registration_failed event: %v\n%s", names(evs), p.transcript())
	}
	reason := f.str("reason")
	t.Logf("no reachable target: exit 4 after %v: %s", took, reason)
	for _, want := range []string{
		"127.0.0.1:" + strconv.Itoa(dead), "sip1." + dnsDomain, "refused",
		"127.0.0.1:" + strconv.Itoa(hole), "sip2." + dnsDomain, "no response",
	} {
		if !strings.Contains(reason, want) {
			t.Errorf("failure %q does not name %q", reason, want)
		}
	}
	if took > 15*time.Second {
		t.Errorf("took %v to give up on two targets", took)
	}
	// A call and a message through the same account end the same way.
	for _, cmd := range [][]string{{"call", "sip:bob@" + dnsDomain, "--audio", "null"}, {"message", "sip:bob@" + dnsDomain, "anyone there?"}} {
		start := time.Now()
		code, _, p := runDialtone(t, 30*time.Second, pw("alice"), append(append(cmd, "--json"), dnsAccount(d, "alice")...)...)
		out := p.transcript()
		t.Logf("%s to a dead set: exit %d after %v", cmd[0], code, time.Since(start))
		if code != 4 {
			t.Errorf("%s: exit %d, want 4\n%s", cmd[0], code, out)
			continue
		}
		for _, want := range []string{"127.0.0.1:" + strconv.Itoa(dead), "127.0.0.1:" + strconv.Itoa(hole), "refused", "no response"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: the output does not name %q:\n%s", cmd[0], want, out)
			}
		}
	}
}

// TestDNSOutboundProxyFailsOver: the outbound proxy (;lr) is a name with an SRV set whose first
// target is dead; REGISTER, a call and a message go through the second with a Route to it, and
// the proxy (Kamailio, also the registrar of dns.test) takes them as its own.
func TestDNSOutboundProxyFailsOver(t *testing.T) {
	t.Parallel()
	live := peers.StartKamailio(t, peers.KamailioOptions{Users: users, Domain: dnsDomain})
	dead := deadPort(t)
	opts := peers.DnsmasqOptions{TTL: 30, Hosts: map[string][]string{"p1." + dnsDomain: {"127.0.0.1"}, "p2." + dnsDomain: {"127.0.0.1"}},
		SRV: []peers.SRVRecord{
			{Name: "_sip._udp.proxy." + dnsDomain, Target: "p1." + dnsDomain, Port: dead, Priority: 10},
			{Name: "_sip._udp.proxy." + dnsDomain, Target: "p2." + dnsDomain, Port: live.Port("udp"), Priority: 20},
		}}
	d := peers.StartDnsmasq(t, opts)
	account := append(dnsAccount(d, "alice"), "--outbound-proxy", "sip:proxy."+dnsDomain+";lr")
	trace := filepath.Join(t.TempDir(), "sip.trace")
	code, evs, p := runDialtone(t, 30*time.Second, pw("alice"), append([]string{"register", "--once", "--json", "--sip-trace", trace}, account...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\nkamailio:\n%s", code, p.transcript(), live.Log())
	}
	if _, ok := findEvent(evs, "registered"); !ok {
		t.Fatalf("no registered event: %v", names(evs))
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	route := "Route: <sip:127.0.0.1:" + strconv.Itoa(live.Port("udp")) + ";lr>"
	if !strings.Contains(string(b), "REGISTER sip:"+dnsDomain+" SIP/2.0") || !strings.Contains(string(b), route) {
		t.Errorf("the REGISTER should ask for sip:%s with %q:\n%s", dnsDomain, route, b)
	}

	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: live.HostPort("udp"),
		Domain: dnsDomain, AutoAnswer: true, ToneHz: 700, Contacts: []string{"sip:alice@" + dnsDomain}})
	rec := filepath.Join(t.TempDir(), "from-bob.wav")
	code, _, p = runDialtone(t, 40*time.Second, pw("alice"), append([]string{"call", "sip:bob@" + dnsDomain, "--json",
		"--play", makeTone(t, 1300, 20, 8000), "--record", rec, "--duration", "3s"}, account...)...)
	if code != 0 {
		t.Fatalf("call via the proxy: exit %d\n%s\nbaresip:\n%s", code, p.transcript(), bob.Log())
	}
	assertTone(t, rec, 700, 2)
	const text = "via the proxy"
	if code, _, p = runDialtone(t, 20*time.Second, pw("alice"), append([]string{"message", "sip:bob@" + dnsDomain, text, "--json"}, account...)...); code != 0 {
		t.Fatalf("message via the proxy: exit %d\n%s", code, p.transcript())
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(bob.Log(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("baresip did not show %q:\n%s", text, bob.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDNSCallFailsOverOn503: a direct call (no account) to a name whose SRV set's first server
// answers 100 Trying then 503 Service Unavailable (sipp) and whose second echoes (sipp): the
// call moves on and is answered, and the echo brings our tone back.
func TestDNSCallFailsOverOn503(t *testing.T) {
	t.Parallel()
	busy := peers.StartSippUAS(t, peers.SippOptions{Scenario: filepath.Join("testdata", "sipp_uas_unavailable.xml")})
	echo := peers.StartSippUAS(t, peers.SippOptions{Scenario: "uas_echo", RTPEcho: true})
	d := srvSet(t, busy.Port(), echo.Port())
	rec := filepath.Join(t.TempDir(), "echo.wav")
	code, evs, p := runDialtone(t, 30*time.Second, nil, "call", "sip:echo@"+dnsDomain, "--json", "--dns-server", d.Addr(),
		"--play", makeTone(t, 900, 10, 8000), "--record", rec, "--duration", "3s")
	if code != 0 {
		t.Fatalf("exit %d\n%s\nfirst sipp:\n%s", code, p.transcript(), busy.Messages())
	}
	if _, ok := findEvent(evs, "answered"); !ok {
		t.Fatalf("no answered event: %v", names(evs))
	}
	if len(busy.Received("INVITE")) != 1 || len(echo.Received("INVITE")) != 1 {
		t.Errorf("INVITEs: %d to the 503 server, %d to the echo; want one each", len(busy.Received("INVITE")), len(echo.Received("INVITE")))
	}
	if len(busy.Received("ACK")) != 1 {
		t.Errorf("the 503 was not acknowledged:\n%s", busy.Messages())
	}
	assertTone(t, rec, 900, 2)
}

// TestDNSDirectCallCancelReachesTheCallee: a direct call to a domain whose SRV record names
// another host and port than the domain's own (no A record at all here), hung up while it
// rings: the CANCEL goes where the INVITE went, and the callee stops ringing (487). sipgo
// builds a CANCEL from the INVITE's Route or Request-URI, not from where the INVITE was sent,
// so it went to dns.test:5060, and the callee rang on until its own timeout.
func TestDNSDirectCallCancelReachesTheCallee(t *testing.T) {
	t.Parallel()
	ring := peers.StartSippUAS(t, peers.SippOptions{Scenario: "uas_ring_forever"})
	d := srvSet(t, ring.Port())
	p := startDialtone(t, nil, "call", "sip:bob@"+dnsDomain, "--json", "--audio", "null", "--dns-server", d.Addr())
	p.waitEvent("ringing", 15*time.Second)
	p.signal(syscall.SIGINT)
	if code, _ := p.wait(15 * time.Second); code != 11 {
		t.Fatalf("exit %d, want 11 (cancelled)\n%s", code, p.transcript())
	}
	eventually(t, 5*time.Second, "the callee's CANCEL", func() (bool, string) {
		return len(ring.Received("CANCEL")) == 1, ring.Messages()
	})
}
