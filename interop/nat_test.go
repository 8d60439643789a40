package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/netlab"
	"github.com/dialtone/dialtone/interop/peers"
)

// natTimeout is the routers' UDP mapping timeout in these tests: short, so that "after the
// mapping has timed out twice" takes seconds, and longer than dialtone's keep-alive below.
const (
	natTimeout   = 4 * time.Second
	natKeepalive = "2s"
)

// natNet is the topology of the NAT tests: a home LAN 192.0.2.0/24 behind a router
// (192.0.2.1 inside, 203.0.113.1 outside), and on the public 203.0.113.0/24 the provider
// (Kamailio, 203.0.113.10), a far end (203.0.113.20) and a STUN server host (203.0.113.30
// and .31).
// Packets from the public side to the LAN's private addresses die at the router, as they
// would on the internet.
type natNet struct {
	router               *netlab.Router
	home, prov, far, srv *netlab.Host
	kam                  *peers.Kamailio
}

var natUsers = map[string]string{"alice": "alice-secret", "bob": "bob-secret", "carol": "carol-secret"}

func newNATNet(t *testing.T, nat netlab.NAT, timeout time.Duration) *natNet {
	t.Helper()
	lab := netlab.New(t)
	lan := lab.Segment("lan", "192.0.2.0/24")
	wan := lab.Segment("wan", "203.0.113.0/24")
	n := &natNet{
		router: lab.Router("nat", netlab.RouterOptions{NAT: nat, UDPTimeout: timeout,
			Inside: lan, InsideIP: "192.0.2.1", Outside: wan, OutsideIP: "203.0.113.1"}),
		home: lab.Host("home", lan, "192.0.2.10"),
		prov: lab.Host("prov", wan, "203.0.113.10"),
		far:  lab.Host("far", wan, "203.0.113.20"),
		srv:  lab.Host("stun", wan, "203.0.113.30", "203.0.113.31"),
	}
	for _, h := range []*netlab.Host{n.prov, n.far, n.srv} {
		h.AddRoute("192.0.2.0/24", "203.0.113.1") // where a private address would go
	}
	n.kam = peers.StartKamailio(t, peers.KamailioOptions{Host: n.prov, IP: "203.0.113.10", Users: natUsers})
	return n
}

// account is the ad-hoc account flags of user at the lab's provider, over UDP.
func (n *natNet) account(user string) []string {
	return []string{"--aor", "sip:" + user + "@" + n.kam.Domain(), "--registrar", "sip:" + n.kam.HostPort("udp"),
		"--transport", "udp"}
}

func natPW(user string) []string { return []string{"DIALTONE_PASSWORD=" + natUsers[user]} }

// traceFlags keep dialtone's SIP trace and debug log in the test's directory, shown when
// a test fails.
func traceFlags(t *testing.T, name string) []string {
	dir := t.TempDir()
	trace, logf := filepath.Join(dir, name+".trace"), filepath.Join(dir, name+".log")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- %s SIP trace ---\n%s\n--- %s log ---\n%s", name, readIfAny(trace), name, readIfAny(logf))
		}
	})
	return []string{"--sip-trace", trace, "--log-file", logf, "--log-level", "debug"}
}

func readIfAny(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return string(b)
}

// TestNATConeWithSTUN and TestNATConeWithoutSTUN: dialtone behind a cone NAT registers
// with a provider that leaves SDP alone and is called by a public baresip after the
// router's UDP mapping timeout has passed twice (keep-alives hold the registration's
// mapping), then calls it. The public media address comes from STUN, or without a STUN server from the
// registrar's received address (the cone keeps the port). Audio is checked both ways.
func TestNATConeWithSTUN(t *testing.T)    { t.Parallel(); testNATCone(t, true) }
func TestNATConeWithoutSTUN(t *testing.T) { t.Parallel(); testNATCone(t, false) }

func testNATCone(t *testing.T, withSTUN bool) {
	start := time.Now()
	n := newNATNet(t, netlab.Cone, natTimeout)
	var nat []string
	if withSTUN {
		stun := peers.StartCoturn(t, peers.CoturnOptions{Host: n.srv, ListenIPs: []string{"203.0.113.30"}})
		nat = []string{"--stun-server", stun.Addr(0)}
	}
	bob := peers.StartBaresip(t, peers.BaresipOptions{Host: n.far, IP: "203.0.113.20", User: "bob", Password: natUsers["bob"],
		Registrar: n.kam.HostPort("udp"), AutoAnswer: true, ToneHz: 700})
	tone := makeTone(t, 1300, 20, 8000)
	calls := 0 // baresip's recordings so far

	t.Run("called after the mapping timed out twice", func(t *testing.T) {
		rec := filepath.Join(t.TempDir(), "from-bob.wav")
		args := append([]string{"answer", "--auto", "--count", "1", "--json", "--play", tone, "--record", rec,
			"--keepalive", natKeepalive}, n.account("carol")...)
		args = append(append(args, nat...), traceFlags(t, "answer")...)
		carol := startDialtoneOn(t, n.home, natPW("carol"), args...)
		carol.waitEvent("registered", 15*time.Second)
		bs, err := n.kam.Bindings("carol")
		if err != nil || len(bs) != 1 || !strings.Contains(bs[0].Received+bs[0].Address, "203.0.113.1:") {
			t.Fatalf("carol's binding at the registrar: %+v %v (want the NAT's public address)", bs, err)
		}
		time.Sleep(2*natTimeout + time.Second) // idle: only keep-alives hold the mapping
		checkSIPMappingHeld(t, n)
		if err := bob.Dial("sip:carol@" + n.kam.Domain()); err != nil {
			t.Fatal(err)
		}
		carol.waitEvent("answered", 15*time.Second)
		calls++
		if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
			t.Fatalf("baresip: %v\n%s", err, bob.Log())
		}
		time.Sleep(3 * time.Second) // the call itself: audio flows meanwhile
		if err := bob.Hangup(); err != nil {
			t.Fatal(err)
		}
		code, evs := carol.wait(15 * time.Second)
		if code != 0 {
			t.Fatalf("answer: exit %d, events %v\n%s", code, names(evs), carol.transcript())
		}
		if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Fatalf("baresip: %v", err)
		}
		if w, ok := findEvent(evs, "media_warning"); ok {
			t.Errorf("media warning although audio should flow: %v", w)
		}
		checkSDPAddress(t, bob.Log(), "192.0.2.10")
		assertToneFor(t, "dialtone (called) heard bob", rec, 700)
		assertBaresipHeard(t, bob, 1300, calls)
	})

	t.Run("calls", func(t *testing.T) {
		// dialtone call never registers (cmd/dialtone/call.go): without a STUN server it asks
		// the account's server where it sees us (OPTIONS, Via rport) before the INVITE.
		rec := filepath.Join(t.TempDir(), "from-bob.wav")
		args := append([]string{"call", bob.AOR(), "--json", "--play", tone, "--record", rec, "--duration", "3s"}, n.account("alice")...)
		args = append(append(args, nat...), traceFlags(t, "call")...)
		p := startDialtoneOn(t, n.home, natPW("alice"), args...)
		code, evs := p.wait(30 * time.Second)
		calls++
		if code != 0 {
			t.Fatalf("call: exit %d, events %v\n%s\nbaresip:\n%s", code, names(evs), p.transcript(), bob.Log())
		}
		if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Fatalf("baresip saw no hangup: %v", err)
		}
		if w, ok := findEvent(evs, "media_warning"); ok {
			t.Errorf("media warning although audio should flow: %v", w)
		}
		checkSDPAddress(t, bob.Log(), "192.0.2.10")
		assertToneFor(t, "dialtone (calling) heard bob", rec, 700)
		assertBaresipHeard(t, bob, 1300, calls)
	})
	t.Logf("wall time %v", time.Since(start).Round(100*time.Millisecond))
}

// checkSIPMappingHeld checks the router's conntrack table: the flow from dialtone's SIP
// socket to the registrar is still there, longer than the mapping timeout after the
// REGISTER, and dies within that timeout unless refreshed (so keep-alives hold it).
func checkSIPMappingHeld(t *testing.T, n *natNet) {
	t.Helper()
	for _, m := range n.router.Mappings() {
		if m.Proto == "udp" && m.From.Addr().String() == "192.0.2.10" && m.To.String() == n.kam.HostPort("udp") {
			if m.Expires > natTimeout {
				t.Errorf("SIP mapping %+v lives longer than the %v timeout", m, natTimeout)
			}
			t.Logf("SIP mapping held by keep-alives: %v -> %v seen as %v, %v left", m.From, m.To, m.Public, m.Expires)
			return
		}
	}
	t.Fatalf("no mapping of dialtone's SIP socket towards the registrar:\n%s", n.router.Conntrack())
}

// checkSDPAddress fails if baresip (whose log holds its SIP trace) was offered the private
// LAN address in SDP: behind a NAT dialtone must advertise its public one.
func checkSDPAddress(t *testing.T, baresipLog, private string) {
	t.Helper()
	if strings.Contains(baresipLog, "c=IN IP4 "+private) {
		t.Errorf("the far end got the private address %s in SDP", private)
	}
	if !strings.Contains(baresipLog, "c=IN IP4 203.0.113.1\r") && !strings.Contains(baresipLog, "c=IN IP4 203.0.113.1\n") {
		t.Errorf("the far end never got the NAT's public address 203.0.113.1 in SDP")
	}
}

// assertToneFor checks dialtone's --record file for at least a second of freq.
func assertToneFor(t *testing.T, what, path string, freq float64) {
	t.Helper()
	if s := toneSeconds(t, path, freq); s < minToneSeconds {
		t.Fatalf("%s: %.0f Hz for only %.2f s", what, freq, s)
	}
}

// assertBaresipHeard checks baresip's recording of call number n (1-based) for freq.
func assertBaresipHeard(t *testing.T, b *peers.Baresip, freq float64, n int) {
	t.Helper()
	recs, err := b.Recordings()
	if err != nil || len(recs) < n {
		t.Fatalf("baresip recordings %v %v, want %d", recs, err, n)
	}
	if s := toneSeconds(t, recs[n-1], freq); s < minToneSeconds {
		t.Fatalf("baresip heard %.0f Hz from dialtone for only %.2f s (call %d)", freq, s, n)
	}
}

// TestNATOneWayAudioWarns: behind a symmetric NAT with no TURN and no relay, the far end's
// RTP goes to a port the NAT never opened, so dialtone receives nothing; within about 6 s of
// the answer it says so with a media_warning event naming the likely cause. Without STUN,
// the address the registrar saw (an OPTIONS before the INVITE: `call` does not register) is
// advertised and the NAT drops what comes back to it; with STUN, the SIP socket's mapping as
// the STUN server and the registrar see it differ, so the warning says the NAT is symmetric
// and what to configure.
func TestNATOneWayAudioWarns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, cause string
		stun        bool
	}{
		{"without STUN", "public address 203.0.113.1 (learnt from registrar)", false},
		{"with STUN", "our NAT is symmetric", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			n := newNATNet(t, netlab.Symmetric, natTimeout)
			var nat []string
			if tc.stun {
				stun := peers.StartCoturn(t, peers.CoturnOptions{Host: n.srv, ListenIPs: []string{"203.0.113.30"}})
				nat = []string{"--stun-server", stun.Addr(0)}
			}
			bob := peers.StartBaresip(t, peers.BaresipOptions{Host: n.far, IP: "203.0.113.20", User: "bob", Password: natUsers["bob"],
				Registrar: n.kam.HostPort("udp"), AutoAnswer: true, ToneHz: 700})
			tone := makeTone(t, 1300, 20, 8000)
			rec := filepath.Join(t.TempDir(), "from-bob.wav")
			args := append([]string{"call", bob.AOR(), "--json", "--play", tone, "--record", rec, "--duration", "8s"}, n.account("alice")...)
			args = append(append(args, nat...), traceFlags(t, "call")...)
			p := startDialtoneOn(t, n.home, natPW("alice"), args...)
			p.waitEvent("answered", 20*time.Second)
			answered := time.Now()
			w := p.waitEvent("media_warning", 8*time.Second)
			if after := time.Since(answered); after > 6500*time.Millisecond {
				t.Errorf("media_warning %v after the answer, want about 5 s", after)
			}
			if w.str("call_id") == "" || w.num("duration") < 4 {
				t.Errorf("media_warning without a call or silence duration: %v", w)
			}
			if !strings.Contains(w.str("reason"), tc.cause) {
				t.Errorf("media_warning reason %q does not name the cause (%q)", w.str("reason"), tc.cause)
			}
			t.Logf("media_warning: %s", w.str("reason"))
			if code, evs := p.wait(20 * time.Second); code != 0 && code != 14 {
				t.Fatalf("call: exit %d, events %v\n%s", code, names(evs), p.transcript())
			}
			// The warning was right: nothing of bob's tone arrived.
			if s := toneSeconds(t, rec, 700); s > 0.2 {
				t.Errorf("dialtone heard bob for %.2f s behind a symmetric NAT without help: the test's premise is wrong", s)
			}
			t.Logf("wall time %v", time.Since(start).Round(100*time.Millisecond))
		})
	}
}
