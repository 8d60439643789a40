package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestRegisterThroughAProxyThatAuthenticatesToo: Kamailio asks a REGISTER for the outbound
// proxy's credentials (407) and then the registrar's (401), as an SBC in front of a registrar
// does. dialtone answers both and registers, the last REGISTER carrying both answers; a
// wrong password still fails as authentication after at most one answer of each. The 401
// after the 407 was taken for the registrar rejecting the password (exit 3).
func TestRegisterThroughAProxyThatAuthenticatesToo(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users, ProxyAuthRegister: true})
	trace := filepath.Join(t.TempDir(), "trace.txt")
	args := append([]string{"register", "--once", "--json", "--sip-trace", trace}, adhoc(k, "udp", "alice")...)
	code, evs, p := runDialtone(t, 30*time.Second, pw("alice"), args...)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, p.transcript())
	}
	if _, ok := findEvent(evs, "registered"); !ok {
		t.Fatalf("no registered event: %v\n%s", names(evs), p.transcript())
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i407, i401 := strings.Index(s, "SIP/2.0 407"), strings.Index(s, "SIP/2.0 401")
	if i407 < 0 || i401 < i407 {
		t.Fatalf("trace shows no 407 then 401: the test proves nothing\n%s", s)
	}
	last := s[i401:]
	if !strings.Contains(last, "Proxy-Authorization: Digest") || !strings.Contains(last, "\nAuthorization: Digest") {
		t.Fatalf("the REGISTER after the 401 does not answer both challenges:\n%s", last)
	}

	code, evs, p = runDialtone(t, 30*time.Second, []string{"DIALTONE_PASSWORD=wrong"}, append([]string{"register", "--once", "--json"}, adhoc(k, "udp", "alice")...)...)
	if code != 3 {
		t.Fatalf("wrong password: exit %d, want 3\n%s", code, p.transcript())
	}
	if f, ok := findEvent(evs, "registration_failed"); !ok || f.str("failure") != "auth" {
		t.Fatalf("wrong password: want registration_failed with failure auth, got %v", evs)
	}
}
