package phone

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// TestRegisterAnswersProxyAndRegistrarChallenges: a REGISTER challenged by the proxy (407) and
// then by the registrar (401) carries both answers in the end; the registrar here grants it
// only with both, as the pair does. Keeping only the latest answer got the REGISTER
// challenged by the proxy again, and that was taken for a wrong password.
func TestRegisterAnswersProxyAndRegistrarChallenges(t *testing.T) {
	ua, srv := sipgoServer(t)
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		challenge := func(code int, reason, name string) { challengeMD5(req, tx, code, reason, name) }
		switch {
		case req.GetHeader("Proxy-Authorization") == nil:
			challenge(407, "Proxy Authentication Required", "Proxy-Authenticate")
		case req.GetHeader("Authorization") == nil:
			challenge(401, "Unauthorized", "WWW-Authenticate")
		default:
			_ = tx.Respond(registered(req))
		}
	})
	p := registrarPhone(t, ua, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := p.wire("a").register(ctx, time.Minute); err != nil {
		t.Fatalf("REGISTER through a proxy and a registrar that both challenge: %v", err)
	}
}

// TestRegisterCountsNonceUses: each request that answers a challenge again uses the next
// nonce-count (RFC 7616 3.4): after the registrar's 401 and the proxy's 407, and again after
// a 423, the answers went out unchanged (nc=00000001 each time), which a server that counts
// nonces takes for a replay.
func TestRegisterCountsNonceUses(t *testing.T) {
	ua, srv := sipgoServer(t)
	var mu sync.Mutex
	var seen []string // "Authorization nc, Proxy-Authorization nc" of each authorized REGISTER
	ncOf := func(req *sip.Request, name string) string {
		h := req.GetHeader(name)
		if h == nil {
			return "-"
		}
		for _, part := range strings.Split(h.Value(), ",") {
			if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && k == "nc" {
				return v
			}
		}
		return "?"
	}
	note := func(req *sip.Request) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, ncOf(req, "Authorization")+" "+ncOf(req, "Proxy-Authorization"))
	}
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		challenge := func(code int, reason, name string) { challengeMD5(req, tx, code, reason, name) }
		switch {
		case req.GetHeader("Authorization") == nil:
			challenge(401, "Unauthorized", "WWW-Authenticate")
		case req.GetHeader("Proxy-Authorization") == nil:
			note(req)
			challenge(407, "Proxy Authentication Required", "Proxy-Authenticate")
		case req.GetHeader("Expires") == nil || req.GetHeader("Expires").Value() != "3600":
			note(req)
			res := sip.NewResponseFromRequest(req, 423, "Interval Too Brief", nil)
			res.AppendHeader(sip.NewHeader("Min-Expires", "3600"))
			_ = tx.Respond(res)
		default:
			note(req)
			_ = tx.Respond(registered(req))
		}
	})
	p := registrarPhone(t, ua, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := p.wire("a").register(ctx, time.Minute); err != nil {
		t.Fatalf("REGISTER: %v", err)
	}
	want := []string{"00000001 -", "00000002 00000001", "00000003 00000002"}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, ", ") != strings.Join(want, ", ") {
		t.Errorf("nonce-counts (Authorization, Proxy-Authorization) of each answer: %q, want %q", seen, want)
	}
}

// TestRegisterKeepsTheRegistrarsMinimum: a 423's Min-Expires is asked for again at every
// refresh, not only in the REGISTER that got the 423: each refresh cost a 423 first.
func TestRegisterKeepsTheRegistrarsMinimum(t *testing.T) {
	ua, srv := sipgoServer(t)
	var mu sync.Mutex
	tooBrief := 0
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		if e := req.GetHeader("Expires"); e == nil || e.Value() != "3600" {
			mu.Lock()
			tooBrief++
			mu.Unlock()
			res := sip.NewResponseFromRequest(req, 423, "Interval Too Brief", nil)
			res.AppendHeader(sip.NewHeader("Min-Expires", "3600"))
			_ = tx.Respond(res)
			return
		}
		_ = tx.Respond(registered(req))
	})
	p := registrarPhone(t, ua, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 2 {
		if _, err := p.wire("a").register(ctx, time.Minute); err != nil {
			t.Fatalf("REGISTER %d: %v", i, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if tooBrief != 1 {
		t.Errorf("%d REGISTERs got 423, want 1 (the refresh asks for the minimum at once)", tooBrief)
	}
}

// registrarPhone serves the test's sipgo registrar (ua, srv) on loopback UDP and runs a phone
// whose account "a" (password "pw") registers there.
func registrarPhone(t *testing.T, ua *sipgo.UserAgent, srv *sipgo.Server) *Phone {
	t.Helper()
	p, _ := registrarPhoneEvents(t, ua, srv)
	return p
}

// registrarPhoneEvents is registrarPhone with the phone's events.
func registrarPhoneEvents(t *testing.T, ua *sipgo.UserAgent, srv *sipgo.Server) (*Phone, <-chan Event) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveUDP(t, ua, srv, pc)
	p, _, events := runPhone(t, Config{KeepAlive: -1, Accounts: []Account{{Name: "a", AOR: "sip:alice@127.0.0.1",
		Registrar: "sip:" + pc.LocalAddr().String(), Password: func(context.Context) (string, error) { return "pw", nil }}}})
	return p, events
}

// challengeMD5 answers req with a digest challenge (nonce "n1", qop=auth) of the given kind:
// 401 with WWW-Authenticate, or 407 with Proxy-Authenticate.
func challengeMD5(req *sip.Request, tx sip.ServerTransaction, code int, reason, header string) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	res.AppendHeader(sip.NewHeader(header, `Digest realm="test", nonce="n1", qop="auth", algorithm=MD5`))
	_ = tx.Respond(res)
}
