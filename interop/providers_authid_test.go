package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// The example whose authentication ID differs from the number registers at a registrar that
// insists on exactly that: sipp (testdata/uas_register_authid.xml) accepts the REGISTER only
// when the digest is right for the ID u123456 and the To user is the number +4930123456. The
// Kamailio test peer cannot stand in here: it requires the digest user to equal the To user.
// Without auth_user (the number as digest user) the same registrar refuses, so the check is
// not vacuous.
func TestProviderExampleAuthID(t *testing.T) {
	t.Parallel()
	ex := findExample(t, providerExamples(t), "A provider whose authentication user differs")
	if !strings.Contains(ex.toml, `auth_user = "u123456"`) || !strings.Contains(ex.toml, `aor = "sip:+4930123456@example.org"`) {
		t.Fatalf("the example changed; update this test:\n%s", ex.toml)
	}
	scenario, err := filepath.Abs(filepath.Join("testdata", "uas_register_authid.xml"))
	if err != nil {
		t.Fatal(err)
	}
	const password = "authid-secret"
	for _, tc := range []struct {
		name   string
		toml   string
		code   int
		sippOK bool
	}{
		{"auth_user", ex.toml, 0, true},
		{"without_auth_user", strings.Replace(ex.toml, `auth_user = "u123456"`, "", 1), 3, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := peers.StartSippUAS(t, peers.SippOptions{Scenario: scenario, Vars: map[string]string{
				"auth_user": "u123456", "auth_pass": password, "auth_realm": "example.org", "aor_user": "+4930123456"}})
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("sipp:\n%s\nactions:\n%s\nmessages:\n%s", s.Log(), s.ActionLog(), s.Messages())
				}
			})
			d := peers.StartDnsmasq(t, peers.DnsmasqOptions{
				Hosts: map[string][]string{"sip.example.org": {"127.0.0.1"}},
				SRV:   []peers.SRVRecord{{Name: "_sip._udp.example.org", Target: "sip.example.org", Port: s.Port(), Priority: 10}},
			})
			text := runnableExample(docExample{heading: ex.heading, toml: tc.toml}, nil, fmt.Sprintf("dns_server = %q", d.Addr()))
			cfg := filepath.Join(t.TempDir(), "config.toml")
			if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			code, evs, p := runDialtone(t, 30*time.Second, []string{"DIALTONE_EXAMPLE_PASSWORD=" + password},
				"register", "--once", "--json", "--config", cfg)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\nsipp:\n%s", code, tc.code, p.transcript(), s.Log())
			}
			if _, ok := findEvent(evs, "registered"); ok != (tc.code == 0) {
				t.Errorf("registered event: %v, want %v: %v", ok, tc.code == 0, names(evs))
			}
			valid := strings.Contains(s.ActionLog(), "AUTH-VALID: true")
			if valid != tc.sippOK {
				t.Fatalf("sipp's verdict AUTH-VALID %v, want %v:\n%s", valid, tc.sippOK, s.ActionLog())
			}
			if !tc.sippOK && !strings.Contains(s.ActionLog(), "AUTH-VALID: false") {
				t.Fatalf("sipp did not refuse:\n%s", s.ActionLog())
			}
			if tc.sippOK {
				// An independent check of the same digest, beside sipp's verifyauth.
				if err := s.VerifyDigest("Authorization", "u123456", password); err != nil {
					t.Error(err)
				}
				if sc, err := s.Wait(10 * time.Second); err != nil || sc != 0 {
					t.Errorf("sipp exit %d, %v (want 0: REGISTER, unREGISTER both answered)\n%s", sc, err, s.Log())
				}
			}
		})
	}
}
