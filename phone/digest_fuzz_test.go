package phone

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// FuzzAuthorize feeds arbitrary challenge headers to the code that answers 401/407: it must
// never panic, and whatever it answers must not contain the password.
func FuzzAuthorize(f *testing.F) {
	for _, s := range []string{
		`Digest realm="127.0.0.1", nonce="abc", qop="auth"`,
		`Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth,auth-int", stale=true`,
		`Digest realm="r", nonce="n", algorithm=SHA-512-256, opaque="o", userhash=true`,
		`Digest realm=, nonce`,
		`Basic realm="x"`,
		`Digest ` + strings.Repeat(`a="b", `, 50),
		`Digest realm="\"quoted\"", nonce="\\", qop=auth`,
		"",
	} {
		f.Add(s, uint16(401))
	}
	f.Fuzz(func(t *testing.T, challenge string, code uint16) {
		status := 401
		if code%2 == 1 {
			status = 407
		}
		req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: 5060})
		res := challengeResponse(status, challenge)
		const secret = "pa55-w0rd-that-must-not-leak"
		_, err := authorize(req, res, "alice", secret)
		for _, name := range []string{"Authorization", "Proxy-Authorization"} {
			if h := req.GetHeader(name); h != nil {
				if err != nil {
					t.Fatalf("error %v but %s was added", err, name)
				}
				if strings.Contains(h.Value(), secret) {
					t.Fatalf("password in %s: %s", name, h.Value())
				}
			}
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Fatalf("password in error: %v", err)
		}
	})
}
