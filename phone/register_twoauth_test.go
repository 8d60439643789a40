package phone

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestRegisterAnswersProxyAndRegistrarChallenges: a REGISTER challenged by the proxy (407) and
// then by the registrar (401) carries both answers in the end; the registrar here grants it
// only with both, as the pair does. Keeping only the latest answer got the REGISTER
// challenged by the proxy again, and that was taken for a wrong password.
func TestRegisterAnswersProxyAndRegistrarChallenges(t *testing.T) {
	ua, srv := sipgoServer(t)
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		challenge := func(code int, reason, name string) {
			res := sip.NewResponseFromRequest(req, code, reason, nil)
			res.AppendHeader(sip.NewHeader(name, `Digest realm="test", nonce="n1", qop="auth", algorithm=MD5`))
			_ = tx.Respond(res)
		}
		switch {
		case req.GetHeader("Proxy-Authorization") == nil:
			challenge(407, "Proxy Authentication Required", "Proxy-Authenticate")
		case req.GetHeader("Authorization") == nil:
			challenge(401, "Unauthorized", "WWW-Authenticate")
		default:
			_ = tx.Respond(registered(req))
		}
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveUDP(t, ua, srv, pc)

	p, _, _ := runPhone(t, Config{KeepAlive: -1, Accounts: []Account{{Name: "a", AOR: "sip:alice@127.0.0.1",
		Registrar: "sip:" + pc.LocalAddr().String(), Password: func(context.Context) (string, error) { return "pw", nil }}}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := p.wire("a").register(ctx, time.Minute); err != nil {
		t.Fatalf("REGISTER through a proxy and a registrar that both challenge: %v", err)
	}
}
