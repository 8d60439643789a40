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

// doctorNATNet is a home LAN (192.0.2.0/24) behind a NAT router (192.0.2.1 | 203.0.113.1), and
// on the public side Kamailio (203.0.113.10) and coturn on two addresses (203.0.113.30 and
// .31, RFC 5780), so that one socket's mapping can be seen by two servers.
type doctorNATNet struct {
	home *netlab.Host
	kam  *peers.Kamailio
	stun *peers.Coturn
}

func newDoctorNATNet(t *testing.T, nat netlab.NAT) *doctorNATNet {
	t.Helper()
	lab := netlab.New(t)
	lan := lab.Segment("lan", "192.0.2.0/24")
	wan := lab.Segment("wan", "203.0.113.0/24")
	lab.Router("nat", netlab.RouterOptions{NAT: nat, UDPTimeout: 30 * time.Second,
		Inside: lan, InsideIP: "192.0.2.1", Outside: wan, OutsideIP: "203.0.113.1"})
	n := &doctorNATNet{home: lab.Host("home", lan, "192.0.2.10")}
	prov := lab.Host("prov", wan, "203.0.113.10")
	srv := lab.Host("stun", wan, "203.0.113.30", "203.0.113.31")
	for _, h := range []*netlab.Host{prov, srv} {
		h.AddRoute("192.0.2.0/24", "203.0.113.1")
	}
	n.kam = peers.StartKamailio(t, peers.KamailioOptions{Host: prov, IP: "203.0.113.10", Users: natUsers})
	n.stun = peers.StartCoturn(t, peers.CoturnOptions{Host: srv, ListenIPs: []string{"203.0.113.30", "203.0.113.31"}})
	return n
}

// doctor runs `dialtone doctor --json` for carol in the home namespace.
func (n *doctorNATNet) doctor(t *testing.T, extra ...string) doctorReport {
	t.Helper()
	args := append([]string{"doctor", "--json", "--aor", "sip:carol@" + n.kam.Domain(), "--registrar", "sip:" + n.kam.HostPort("udp"),
		"--stun-server", n.stun.Addr(0)}, extra...)
	p := startDialtoneOn(t, n.home, natPW("carol"), args...)
	code, evs := p.wait(90 * time.Second)
	doc, ok := findEvent(evs, "doctor")
	if !ok {
		t.Fatalf("exit %d and no doctor document\n%s", code, p.transcript())
	}
	return doctorReport{event: doc, code: code, p: p}
}

// TestDoctorBehindConeNAT: the two STUN addresses and the registrar see one public mapping:
// verdict cone, audio should work, nothing to fix (exit 0); the REGISTER check shows the
// registrar stored the NAT's public address.
func TestDoctorBehindConeNAT(t *testing.T) {
	t.Parallel()
	n := newDoctorNATNet(t, netlab.Cone)
	r := n.doctor(t)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.p.transcript())
	}
	c := r.check(t, "nat")
	f := facts(c)
	if c.str("status") != "ok" || f.str("kind") != "cone" || !strings.Contains(c.str("note"), "audio can reach you") {
		t.Fatalf("nat: %v", c)
	}
	if !strings.HasPrefix(f.str("mapped"), "203.0.113.1:") || !strings.HasPrefix(f.str("local"), "192.0.2.10:") ||
		!strings.HasPrefix(f.str("other_address"), "203.0.113.31:") || !strings.HasPrefix(f.str("mapped_via_other"), f.str("mapped")) {
		t.Fatalf("nat facts: %v", f)
	}
	if c := r.check(t, "turn"); c.str("status") != "skipped" {
		t.Errorf("turn without a turn_server: %v", c)
	}
	reg := r.check(t, "register")
	if reg.str("status") != "ok" || !strings.Contains(facts(reg).str("nat"), "203.0.113.1:") {
		t.Fatalf("register: %v", reg)
	}
}

// TestDoctorBehindSymmetricNAT: each destination gets its own public port: verdict symmetric
// with one-way audio likely and the TURN fix (a warning: exit 0, or 6 with --strict). With a
// TURN server configured the same NAT is fine.
func TestDoctorBehindSymmetricNAT(t *testing.T) {
	t.Parallel()
	n := newDoctorNATNet(t, netlab.Symmetric)
	r := n.doctor(t, "--strict")
	if r.code != 6 || r.str("result") != "warn" {
		t.Fatalf("exit %d result %q, want 6 warn\n%s", r.code, r.str("result"), r.p.transcript())
	}
	c := r.check(t, "nat")
	f := facts(c)
	if c.str("status") != "warn" || f.str("kind") != "symmetric" || !strings.Contains(c.str("verdict"), "one-way audio") ||
		!strings.Contains(c.str("fix"), "turn_server") {
		t.Fatalf("nat: %v", c)
	}
	if strings.HasPrefix(f.str("mapped_via_other"), f.str("mapped")) {
		t.Fatalf("one mapping for both STUN addresses behind a symmetric NAT: %v", f)
	}

	pwFile := filepath.Join(t.TempDir(), "turn-pw")
	if err := os.WriteFile(pwFile, []byte(n.stun.Password()), 0o600); err != nil {
		t.Fatal(err)
	}
	r = n.doctor(t, "--turn-server", n.stun.Addr(0), "--turn-user", n.stun.User(), "--turn-password-file", pwFile, "--no-register")
	if r.code != 0 {
		t.Fatalf("with TURN: exit %d\n%s", r.code, r.p.transcript())
	}
	if c := r.check(t, "nat"); c.str("status") != "ok" || !strings.Contains(c.str("note"), "TURN relay") {
		t.Fatalf("with TURN: nat %v", c)
	}
	if c := r.check(t, "turn"); c.str("status") != "ok" || !strings.HasPrefix(facts(c).str("relayed_rtp"), "203.0.113.3") {
		t.Fatalf("with TURN: turn %v", c)
	}

	// A wrong TURN password behind a symmetric NAT: the relay calls need is unusable: exit 3.
	if err := os.WriteFile(pwFile, []byte("wrong"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = n.doctor(t, "--turn-server", n.stun.Addr(0), "--turn-user", n.stun.User(), "--turn-password-file", pwFile, "--no-register")
	c = r.check(t, "turn")
	if r.code != 3 || c.str("status") != "fail" || !strings.Contains(c.str("verdict"), "rejected the credentials") {
		t.Fatalf("wrong TURN password: exit %d, turn %v\n%s", r.code, c, r.p.transcript())
	}
}
