package diag

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/nat"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestVerdictNAT(t *testing.T) {
	local := ap("192.0.2.10:4000")
	cases := []struct {
		name       string
		f          natFacts
		stun, turn string
		kind       nat.Kind
		status     Status
		want       []string // in verdict or fix
	}{
		{"open via STUN and its other address", natFacts{local: local, stun: local, stunOther: local}, "s", "", nat.Open, OK, []string{"no NAT"}},
		{"open via STUN alone", natFacts{local: local, stun: local}, "s", "", nat.Open, OK, []string{"no NAT"}},
		{"open via the registrar alone", natFacts{local: local, registrar: local}, "", "", nat.Open, OK, []string{"no NAT"}},
		{"cone", natFacts{local: local, stun: ap("203.0.113.5:4000"), stunOther: ap("203.0.113.5:4000")}, "s", "", nat.Cone, OK, []string{"cone", "audio can reach you"}},
		{"cone, second view from the registrar", natFacts{local: local, stun: ap("203.0.113.5:4000"), registrar: ap("203.0.113.5:4000")}, "s", "", nat.Cone, OK, []string{"cone"}},
		{"symmetric without TURN", natFacts{local: local, stun: ap("203.0.113.5:1024"), stunOther: ap("203.0.113.5:1025")}, "s", "", nat.Symmetric, Warn, []string{"symmetric", "one-way audio", "turn_server"}},
		{"symmetric with TURN", natFacts{local: local, stun: ap("203.0.113.5:1024"), registrar: ap("203.0.113.5:1999")}, "s", "turn.example:3478", nat.Symmetric, OK, []string{"TURN relay turn.example:3478"}},
		{"NAT seen by one server", natFacts{local: local, stun: ap("203.0.113.5:4000")}, "s", "", nat.Unknown, Warn, []string{"cannot be told apart", "RFC 5780"}},
		{"NAT seen by the registrar, no STUN", natFacts{local: local, registrar: ap("203.0.113.5:4000")}, "", "", nat.Unknown, Warn, []string{"stun_server"}},
		{"nothing answered, no STUN server", natFacts{local: local}, "", "", nat.Unknown, Warn, []string{"no stun_server"}},
		{"nothing answered, STUN server silent", natFacts{local: local}, "stun.example", "", nat.Unknown, Warn, []string{"stun.example did not answer"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kind, status, verdict, fix := verdictNAT(tc.f, tc.stun, tc.turn)
			if kind != tc.kind || status != tc.status {
				t.Fatalf("kind %v status %v, want %v %v (%s)", kind, status, tc.kind, tc.status, verdict)
			}
			for _, w := range tc.want {
				if !strings.Contains(verdict+" "+fix, w) {
					t.Errorf("verdict %q / fix %q lacks %q", verdict, fix, w)
				}
			}
			if status != OK && fix == "" {
				t.Errorf("a %v verdict without a fix: %q", status, verdict)
			}
		})
	}
}

func TestReportWorst(t *testing.T) {
	r := &Report{Checks: []*Check{{Status: OK}, {Status: Skipped}}}
	if r.Worst() != Skipped || r.WorstFailure() != phone.NoFailure {
		t.Fatalf("worst %v failure %v", r.Worst(), r.WorstFailure())
	}
	r.Checks = append(r.Checks, &Check{Status: Warn}, &Check{Status: Fail, Failure: phone.FailureNetwork}, &Check{Status: Fail, Failure: phone.FailureAuth})
	if r.Worst() != Fail {
		t.Fatalf("worst %v, want fail", r.Worst())
	}
	if f := r.WorstFailure(); f != phone.FailureNetwork {
		t.Fatalf("failure %v, want the first failed check's (network)", f)
	}
	r.Checks = []*Check{{Status: Fail}}
	if f := r.WorstFailure(); f != phone.FailureNetwork {
		t.Fatalf("an unclassified failure is %v, want network", f)
	}
	n := (&Report{Checks: []*Check{{Status: OK}, {Status: OK}, {Status: Fail}}}).Counts()
	if n[OK] != 2 || n[Fail] != 1 || n[Warn] != 0 {
		t.Fatalf("counts %v", n)
	}
}

func TestCheckJSONKeepsFactOrder(t *testing.T) {
	c := &Check{Name: "x", Title: "X", Status: Warn, Verdict: "v", Fix: "f"}
	c.add("zeta", 1)
	c.add("alpha", "two")
	c.add("list", []string{"a"})
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, `"facts":{"zeta":1,"alpha":"two","list":["a"]}`) || !strings.Contains(s, `"status":"warn"`) {
		t.Fatalf("JSON %s", s)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("not valid JSON: %v: %s", err, s)
	}
}

func TestTransportsFor(t *testing.T) {
	cases := []struct {
		t    phone.Transport
		port int
		want string
	}{
		{phone.UDP, 0, "[udp tcp tls]"},
		{phone.TLS, 0, "[tls udp tcp]"}, // the account's own first: asked within its own budget
		{phone.UDP, 5070, "[udp tcp]"},
		{phone.TCP, 5070, "[tcp udp]"},
		{phone.TLS, 5071, "[tls]"},
	}
	for _, tc := range cases {
		var got []string
		for _, x := range transportsFor(tc.t, tc.port) {
			got = append(got, x.String())
		}
		if s := "[" + strings.Join(got, " ") + "]"; s != tc.want {
			t.Errorf("transportsFor(%v, %d) = %s, want %s", tc.t, tc.port, s, tc.want)
		}
	}
}

func TestCheckConfigVerdicts(t *testing.T) {
	base := Input{Account: phone.Account{Name: "a", AOR: "sip:alice@example.com"}, PasswordSource: "password_env X (set)"}
	if c := checkConfig(&base); c.Status != OK {
		t.Fatalf("good config: %v %s", c.Status, c.Verdict)
	}
	in := base
	in.PasswordSource, in.PasswordProblem = "password_env X", "X is not set"
	if c := checkConfig(&in); c.Status != Fail || c.Failure != phone.FailureConfig || !strings.Contains(c.Verdict, "X is not set") {
		t.Fatalf("missing password: %v %v %q", c.Status, c.Failure, c.Verdict)
	}
	in = base
	in.PasswordSource = ""
	if c := checkConfig(&in); c.Status != Warn || c.Fix == "" {
		t.Fatalf("no password source: %v %q", c.Status, c.Fix)
	}
	in = base
	in.Account.Registrar = "sip:[bad"
	if c := checkConfig(&in); c.Status != Fail || c.Failure != phone.FailureConfig {
		t.Fatalf("bad registrar: %v %v %q", c.Status, c.Failure, c.Verdict)
	}
	for _, f := range checkConfig(&base).Facts {
		if s, ok := f.Value.(string); ok && strings.Contains(s, "secret") {
			t.Fatalf("fact %s shows a secret", f.Key)
		}
	}
}
