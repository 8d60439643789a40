package phone

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

func hexHash(h func() hash.Hash, parts ...string) string {
	x := h()
	x.Write([]byte(strings.Join(parts, ":")))
	return hex.EncodeToString(x.Sum(nil))
}

func challengeResponse(code int, challenges ...string) *sip.Response {
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: 5060})
	res := sip.NewResponseFromRequest(req, code, "Unauthorized", nil)
	name := "WWW-Authenticate"
	if code == 407 {
		name = "Proxy-Authenticate"
	}
	for _, c := range challenges {
		res.AppendHeader(sip.NewHeader(name, c))
	}
	return res
}

func TestAuthorizeComputesRFC2617And7616Responses(t *testing.T) {
	cases := []struct {
		name, challenge, header string
		h                       func() hash.Hash
		qop                     bool
	}{
		{"md5 no qop", `Digest realm="127.0.0.1", nonce="abc123"`, "Authorization", md5.New, false},
		{"md5 qop=auth", `Digest realm="127.0.0.1", nonce="abc123", qop="auth"`, "Authorization", md5.New, true},
		{"sha-256 qop=auth,auth-int", `Digest realm="127.0.0.1", nonce="n0nce", algorithm=SHA-256, qop="auth,auth-int"`, "Authorization", sha256.New, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: 5060, UriParams: sip.HeaderParams{{K: "transport", V: "tcp"}}})
			res := challengeResponse(401, c.challenge)
			if _, err := authorize(req, res, "alice", "s3cr3t"); err != nil {
				t.Fatal(err)
			}
			h := req.GetHeader(c.header)
			if h == nil {
				t.Fatalf("no %s header", c.header)
			}
			cred, err := digest.ParseCredentials(h.Value())
			if err != nil {
				t.Fatal(err)
			}
			if cred.URI != "sip:127.0.0.1:5060;transport=tcp" {
				t.Fatalf("digest uri %q, want the Request-URI as sent", cred.URI)
			}
			ha1 := hexHash(c.h, "alice", "127.0.0.1", "s3cr3t")
			ha2 := hexHash(c.h, "REGISTER", cred.URI)
			var want string
			if c.qop {
				want = hexHash(c.h, ha1, cred.Nonce, fmt.Sprintf("%08x", cred.Nc), cred.Cnonce, "auth", ha2)
				if cred.QOP != "auth" || cred.Cnonce == "" {
					t.Fatalf("qop %q cnonce %q, want auth and a cnonce", cred.QOP, cred.Cnonce)
				}
			} else {
				want = hexHash(c.h, ha1, cred.Nonce, ha2)
			}
			if cred.Response != want {
				t.Fatalf("response %s, want %s", cred.Response, want)
			}
			if strings.Contains(h.Value(), "s3cr3t") {
				t.Fatal("password leaked into the header")
			}
		})
	}
}

// TestAuthorizeAnswersAuthIntOnly: a challenge that offers only qop=auth-int is answered, the
// body hashed into A2 (RFC 2617 §3.2.2.3; RFC 3261 §22.4 hashes an empty body for a REGISTER).
// Such a registrar was refused, and the account retried forever.
func TestAuthorizeAnswersAuthIntOnly(t *testing.T) {
	for _, body := range []string{"", "v=0\r\n"} {
		req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: 5060})
		req.SetBody([]byte(body))
		if _, err := authorize(req, challengeResponse(401, `Digest realm="r", nonce="n", qop="auth-int"`), "alice", "pw"); err != nil {
			t.Fatal(err)
		}
		cred, err := digest.ParseCredentials(req.GetHeader("Authorization").Value())
		if err != nil {
			t.Fatal(err)
		}
		ha1 := hexHash(md5.New, "alice", "r", "pw")
		ha2 := hexHash(md5.New, "REGISTER", cred.URI, hexHash(md5.New, body))
		want := hexHash(md5.New, ha1, cred.Nonce, fmt.Sprintf("%08x", cred.Nc), cred.Cnonce, "auth-int", ha2)
		if cred.QOP != "auth-int" || cred.Response != want {
			t.Fatalf("body %q: qop %q response %s, want auth-int %s", body, cred.QOP, cred.Response, want)
		}
	}
}

func TestAuthorizeAnswers407WithProxyAuthorization(t *testing.T) {
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "bob", Host: "example.com"})
	res := challengeResponse(407, `Digest realm="example.com", nonce="x"`)
	if _, err := authorize(req, res, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	if req.GetHeader("Proxy-Authorization") == nil || req.GetHeader("Authorization") != nil {
		t.Fatal("407 must be answered with Proxy-Authorization only")
	}
	// Answering again replaces, never stacks, the header.
	if _, err := authorize(req, res, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	if n := len(req.GetHeaders("Proxy-Authorization")); n != 1 {
		t.Fatalf("%d Proxy-Authorization headers, want 1", n)
	}
}

func TestPickChallengePrefersTheStrongestAlgorithm(t *testing.T) {
	c, err := pickChallenge([]string{
		`Digest realm="r", nonce="1", algorithm=MD5, qop="auth"`,
		`Digest realm="r", nonce="2", algorithm=SHA-256, qop="auth"`,
		`Digest realm="r", nonce="3", algorithm=AKAv1-MD5, qop="auth"`,
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Nonce != "2" {
		t.Fatalf("picked nonce %s (%s), want the SHA-256 challenge", c.Nonce, c.Algorithm)
	}
}

// TestPickChallengeReadsAQOPList: qop="auth-int, auth" offers auth too (the space after the
// comma made it " auth", and the challenge unusable), and the answer uses it.
func TestPickChallengeReadsAQOPList(t *testing.T) {
	const chal = `Digest realm="r", nonce="n", algorithm=MD5, qop="auth-int, auth"`
	c, err := pickChallenge([]string{chal})
	if err != nil || !c.SupportsQOP("auth") {
		t.Fatalf("picked %+v, %v; want the challenge, with auth", c, err)
	}
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "h"})
	if _, err := authorize(req, challengeResponse(401, chal), "a", "b"); err != nil {
		t.Fatal(err)
	}
	if h := req.GetHeader("Authorization"); h == nil || !strings.Contains(h.Value(), "qop=auth") {
		t.Fatalf("Authorization %v, want qop=auth", h)
	}
}

func TestPickChallengeRejectsWhatWeCannotAnswer(t *testing.T) {
	for _, values := range [][]string{
		nil,
		{`Basic realm="r"`},
		{`Digest realm="r", nonce="1", algorithm=AKAv1-MD5`},
		{`Digest realm="r", nonce="1", algorithm=SHA-256, qop="auth-conf"`},
	} {
		if c, err := pickChallenge(values); err == nil {
			t.Errorf("%q: picked %+v, want an error", values, c)
		}
	}
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "h"})
	if _, err := authorize(req, challengeResponse(401, `Basic realm="r"`), "a", "b"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v, want one naming the 401", err)
	}
}

func TestHasStaleChallenge(t *testing.T) {
	if !hasStaleChallenge(challengeResponse(401, `Digest realm="r", nonce="1", stale=true`)) {
		t.Error("stale=true not seen")
	}
	if !hasStaleChallenge(challengeResponse(401, `Digest realm="r", nonce="1", stale="TRUE"`)) {
		t.Error(`stale="TRUE" not seen`)
	}
	if hasStaleChallenge(challengeResponse(401, `Digest realm="r", nonce="1"`)) {
		t.Error("stale reported without the parameter")
	}
}

// TestChallengesAnsweredOncePerKind: a proxy's 407 and then the registrar's 401 are answered
// both; a second challenge of a kind already answered is a rejection unless it says stale, and
// stale gets one more try only.
func TestChallengesAnsweredOncePerKind(t *testing.T) {
	res := func(code int, stale bool) *sip.Response {
		r := sip.NewResponse(code, "")
		name, v := "WWW-Authenticate", `Digest realm="x", nonce="n", qop="auth"`
		if code == 407 {
			name = "Proxy-Authenticate"
		}
		if stale {
			v += `, stale=true`
		}
		r.AppendHeader(sip.NewHeader(name, v))
		return r
	}
	var c challenges
	if c.sent() {
		t.Fatal("credentials sent before any challenge")
	}
	steps := []struct {
		code  int
		stale bool
		want  bool
	}{
		{407, false, true}, {401, false, true}, // two kinds: both answered
		{401, true, true},  // stale: once more
		{401, true, false}, // stale again: rejected
		{407, false, false},
	}
	for i, s := range steps {
		if got := c.mayAnswer(res(s.code, s.stale)); got != s.want {
			t.Fatalf("step %d (%d stale=%v): answer %v, want %v", i, s.code, s.stale, got, s.want)
		}
	}
	if !c.sent() {
		t.Fatal("credentials sent not noted")
	}
}

// TestAuthIntCoversTheSecureReoffer: a call challenged with qop=auth-int only, whose
// best-effort SRTP offer (RTP/AVP with keys) is then refused 488, offers again as RTP/SAVP
// with credentials computed over that new body. They were computed over the old one, and the
// server refused the re-offer as badly authenticated.
func TestAuthIntCoversTheSecureReoffer(t *testing.T) {
	srv := newLateServer(t)
	caller, _, events := runPhone(t, Config{KeepAlive: -1, Accounts: []Account{{Name: "a", AOR: "sip:alice@127.0.0.1",
		OutboundProxy: "sip:" + srv.pc.LocalAddr().String(), MediaEncryption: "sdes",
		Password: func(context.Context) (string, error) { return "pw", nil }}}})
	id, err := caller.Dial("a", "sip:bob@127.0.0.1", CallAudio{}, DialOptions{RingTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	first := srv.readMethod(sip.INVITE, 10*time.Second)
	res := sip.NewResponseFromRequest(first, 401, "Unauthorized", nil)
	res.AppendHeader(sip.NewHeader("WWW-Authenticate", `Digest realm="r", nonce="n", qop="auth-int"`))
	if _, err := srv.pc.WriteTo([]byte(res.String()), srv.from); err != nil {
		t.Fatal(err)
	}
	authed := srv.readMethod(sip.INVITE, 5*time.Second)
	for authed.CSeq().SeqNo == first.CSeq().SeqNo { // a retransmission of the first
		authed = srv.readMethod(sip.INVITE, 5*time.Second)
	}
	srv.respond(authed, 488, "Not Acceptable Here")
	reoffer := srv.readMethod(sip.INVITE, 5*time.Second)
	for reoffer.CSeq().SeqNo == authed.CSeq().SeqNo {
		reoffer = srv.readMethod(sip.INVITE, 5*time.Second)
	}
	if !strings.Contains(string(reoffer.Body()), "RTP/SAVP") {
		t.Fatalf("the re-offer is not RTP/SAVP:\n%s", reoffer.Body())
	}
	h := reoffer.GetHeader("Authorization")
	if h == nil {
		t.Fatal("the re-offer has no credentials")
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil {
		t.Fatal(err)
	}
	ha1 := hexHash(md5.New, "alice", "r", "pw")
	ha2 := hexHash(md5.New, "INVITE", cred.URI, hexHash(md5.New, string(reoffer.Body())))
	if want := hexHash(md5.New, ha1, cred.Nonce, fmt.Sprintf("%08x", cred.Nc), cred.Cnonce, "auth-int", ha2); cred.Response != want {
		t.Fatal("the re-offer's credentials do not cover its body")
	}
	srv.respond(reoffer, 486, "Busy Here")
	waitCall(t, events, id, CallEnded)
}
