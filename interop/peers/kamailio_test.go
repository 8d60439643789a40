package peers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

const testTimeout = 10 * time.Second

// newUA returns a sipgo client whose UA trusts k's certificate.
func newUA(t *testing.T, k *Kamailio) (*sipgo.UserAgent, *sipgo.Client) {
	t.Helper()
	pem, err := os.ReadFile(k.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", k.CAFile())
	}
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgenTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	c, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	return ua, c
}

func aor(user string) sip.Uri { return sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1"} }

// serverURI is the proxy's URI for transport ("udp", "tcp", "tls").
func serverURI(k *Kamailio, transport string) sip.Uri {
	u := sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: k.Port(transport), UriParams: sip.NewParams()}
	if transport != "udp" {
		u.UriParams.Add("transport", transport)
	}
	return u
}

// registerReq builds a REGISTER for user binding contact.
func registerReq(k *Kamailio, transport, user, contact string, expires int, callID string, cseq uint32) *sip.Request {
	req := sip.NewRequest(sip.REGISTER, serverURI(k, transport))
	req.SetTransport(strings.ToUpper(transport))
	from := &sip.FromHeader{Address: aor(user), Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor(user)})
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.REGISTER})
	req.AppendHeader(sip.NewHeader("Contact", "<"+contact+">"))
	req.AppendHeader(sip.NewHeader("Expires", fmt.Sprint(expires)))
	return req
}

// doAuth sends req and, if challenged, answers the challenge once. It returns
// the challenge (nil if none) and the final response.
func doAuth(ctx context.Context, c *sipgo.Client, req *sip.Request, user, pass string) (challenge, res *sip.Response, err error) {
	res, err = c.Do(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	if res.StatusCode != sip.StatusUnauthorized && res.StatusCode != sip.StatusProxyAuthRequired {
		return nil, res, nil
	}
	challenge = res
	res, err = c.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: pass})
	return challenge, res, err
}

func TestKamailioRegister(t *testing.T) {
	for i, transport := range []string{"udp", "tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "alicepw", "bob": "bobpw"}})
			_, c := newUA(t, k)

			contact := fmt.Sprintf("sip:alice@127.0.0.1:%d;transport=%s", 45670+i, transport)
			callID := "reg-" + transport + "-" + sip.GenerateTagN(8)

			req := registerReq(k, transport, "alice", contact, 4, callID, 1)
			chal, res, err := doAuth(ctx, c, req, "alice", "alicepw")
			if err != nil {
				t.Fatalf("REGISTER: %v\n%s", err, k.Log())
			}
			if chal == nil || chal.StatusCode != sip.StatusUnauthorized {
				t.Fatalf("REGISTER was not challenged with 401: %v", chal)
			}
			if res.StatusCode != sip.StatusOK {
				t.Fatalf("REGISTER after auth: %d %s\n%s", res.StatusCode, res.Reason, k.Log())
			}
			// Short expiries are accepted as-is (min_expires disabled).
			if got := res.GetHeader("Contact"); got == nil || !strings.Contains(got.Value(), "expires=4") {
				t.Errorf("200 OK Contact = %v, want expires=4", got)
			}

			contacts, err := k.Contacts("sip:alice@127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(contacts, contact) {
				t.Fatalf("Contacts(alice) = %q, want it to contain %q", contacts, contact)
			}
			bs, err := k.Bindings("sip:alice@127.0.0.1")
			if err != nil || len(bs) != 1 {
				t.Fatalf("Bindings = %+v, %v", bs, err)
			}
			if !strings.HasPrefix(bs[0].Socket, transport+":127.0.0.1:") {
				t.Errorf("binding socket = %q, want %s", bs[0].Socket, transport)
			}
			if transport != "udp" && !strings.Contains(bs[0].Received, "transport="+transport) {
				t.Errorf("binding received = %q, want the %s connection's address", bs[0].Received, transport)
			}
			if bs[0].Expires < 1 || bs[0].Expires > 4 {
				t.Errorf("binding expires = %d, want 1..4", bs[0].Expires)
			}
			if other, err := k.Contacts("sip:bob@127.0.0.1"); err != nil || len(other) != 0 || other == nil {
				t.Errorf("Contacts(bob) = %#v, %v; want empty non-nil slice", other, err)
			}

			// Unregister.
			req = registerReq(k, transport, "alice", contact, 0, callID, 3)
			_, res, err = doAuth(ctx, c, req, "alice", "alicepw")
			if err != nil {
				t.Fatalf("un-REGISTER: %v", err)
			}
			if res.StatusCode != sip.StatusOK {
				t.Fatalf("un-REGISTER: %d %s", res.StatusCode, res.Reason)
			}
			contacts, err = k.Contacts("sip:alice@127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			if len(contacts) != 0 {
				t.Fatalf("after Expires: 0, Contacts(alice) = %q, want none", contacts)
			}

			n, err := k.Stat("rcv_requests_register")
			if err != nil {
				t.Fatal(err)
			}
			if n < 4 { // 4 transactions; over UDP a loaded machine may add retransmissions
				t.Errorf("rcv_requests_register = %d, want at least 4", n)
			}
			if n, err := k.Stat("registrar:accepted_regs"); err != nil || n != 2 {
				t.Errorf("registrar:accepted_regs = %d, %v; want 2", n, err)
			}
		})
	}
}

func TestKamailioWrongPassword(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "alicepw"}})
	_, c := newUA(t, k)

	for _, tc := range []struct{ user, pass string }{
		{"alice", "wrong"},
		{"mallory", "whatever"}, // unknown user
		{"mallory", ""},         // unknown user, empty password
	} {
		req := registerReq(k, "udp", tc.user, "sip:"+tc.user+"@127.0.0.1:45699", 60, "bad-"+sip.GenerateTagN(8), 1)
		chal, res, err := doAuth(ctx, c, req, tc.user, tc.pass)
		if err != nil {
			t.Fatalf("%s: %v", tc.user, err)
		}
		if chal == nil || chal.StatusCode != sip.StatusUnauthorized {
			t.Fatalf("%s: first answer %v, want 401", tc.user, chal)
		}
		if res.StatusCode != sip.StatusUnauthorized {
			t.Fatalf("%s/%q: answer to credentials = %d %s, want 401", tc.user, tc.pass, res.StatusCode, res.Reason)
		}
		if res.GetHeader("WWW-Authenticate") == nil {
			t.Errorf("%s: second 401 carries no WWW-Authenticate", tc.user)
		}
		if cs, err := k.Contacts("sip:" + tc.user + "@127.0.0.1"); err != nil || len(cs) != 0 {
			t.Errorf("%s: Contacts = %q, %v; want none", tc.user, cs, err)
		}
	}
	if n, err := k.Stat("rcv_requests_register"); err != nil || n < 6 {
		t.Errorf("rcv_requests_register = %d, %v; want at least 6 (retransmissions may add more)", n, err)
	}
	if n, err := k.Stat("registrar:accepted_regs"); err != nil || n != 0 {
		t.Errorf("registrar:accepted_regs = %d, %v; want 0", n, err)
	}
}

func TestKamailioDigestAlgorithm(t *testing.T) {
	for _, alg := range []string{"MD5", "SHA-256"} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "alicepw"}, Algorithm: alg})
			_, c := newUA(t, k)

			req := registerReq(k, "tcp", "alice", "sip:alice@127.0.0.1:45680;transport=tcp", 60, "alg-"+sip.GenerateTagN(8), 1)
			chal, res, err := doAuth(ctx, c, req, "alice", "alicepw")
			if err != nil {
				t.Fatal(err)
			}
			if chal == nil {
				t.Fatal("REGISTER was not challenged")
			}
			www := chal.GetHeader("WWW-Authenticate").Value()
			t.Logf("WWW-Authenticate: %s", www)
			if !strings.Contains(www, `qop="auth"`) {
				t.Errorf("challenge lacks qop=auth: %s", www)
			}
			switch alg {
			case "SHA-256":
				if !strings.Contains(www, "algorithm=SHA-256") {
					t.Errorf("challenge lacks algorithm=SHA-256: %s", www)
				}
			default:
				if strings.Contains(www, "SHA-256") {
					t.Errorf("MD5 challenge mentions SHA-256: %s", www)
				}
			}
			if auth := req.GetHeader("Authorization"); auth == nil {
				t.Error("no Authorization sent")
			} else if alg == "SHA-256" && !strings.Contains(auth.Value(), "algorithm=SHA-256") {
				t.Errorf("Authorization sent = %s, want algorithm=SHA-256", auth.Value())
			}
			if res.StatusCode != sip.StatusOK {
				t.Fatalf("REGISTER with %s credentials: %d %s\n%s", alg, res.StatusCode, res.Reason, k.Log())
			}
			if cs, err := k.Contacts("sip:alice@127.0.0.1"); err != nil || len(cs) != 1 {
				t.Errorf("Contacts = %q, %v; want one", cs, err)
			}
		})
	}
}

// startCallee runs a sipgo UA on a UDP socket that answers MESSAGE and
// INVITE with 200 and reports what it received.
func startCallee(t *testing.T, ua *sipgo.UserAgent) (*net.UDPAddr, chan *sip.Request) {
	t.Helper()
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *sip.Request, 4)
	answer := func(req *sip.Request, tx sip.ServerTransaction) {
		got <- req
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	}
	srv.OnMessage(answer)
	srv.OnOptions(answer)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.ServeUDP(pc)
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().(*net.UDPAddr), got
}

func messageReq(k *Kamailio, transport, from, to string) *sip.Request {
	req := sip.NewRequest(sip.MESSAGE, aor(to))
	req.SetTransport(strings.ToUpper(transport))
	req.SetDestination(k.HostPort(transport))
	f := &sip.FromHeader{Address: aor(from), Params: sip.NewParams()}
	f.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(f)
	req.AppendHeader(&sip.ToHeader{Address: aor(to)})
	req.AppendHeader(sip.NewHeader("Content-Type", "text/plain"))
	req.SetBody([]byte("hello " + to))
	return req
}

// TestKamailioProxy proves routing: OPTIONS to the server, MESSAGE to an
// unregistered user (404), and MESSAGE delivered to a registered user, with
// and without proxy authentication for calls.
func TestKamailioProxy(t *testing.T) {
	for _, authCalls := range []bool{false, true} {
		t.Run(fmt.Sprintf("AuthCalls=%v", authCalls), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			k := StartKamailio(t, KamailioOptions{
				Users:     map[string]string{"alice": "alicepw", "bob": "bobpw"},
				AuthCalls: authCalls,
			})

			// OPTIONS to the server itself.
			_, ac := newUA(t, k)
			opt := sip.NewRequest(sip.OPTIONS, serverURI(k, "udp"))
			res, err := ac.Do(ctx, opt)
			if err != nil || res.StatusCode != sip.StatusOK {
				t.Fatalf("OPTIONS: %v %v", res, err)
			}

			// Unregistered callee.
			_, res, err = doAuth(ctx, ac, messageReq(k, "udp", "alice", "bob"), "alice", "alicepw")
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != sip.StatusNotFound {
				t.Fatalf("MESSAGE to unregistered bob: %d %s, want 404", res.StatusCode, res.Reason)
			}

			// Register bob, then deliver.
			bobUA, bc := newUA(t, k)
			addr, got := startCallee(t, bobUA)
			bobContact := fmt.Sprintf("sip:bob@127.0.0.1:%d", addr.Port)
			_, res, err = doAuth(ctx, bc, registerReq(k, "udp", "bob", bobContact, 60, "bob-"+sip.GenerateTagN(8), 1), "bob", "bobpw")
			if err != nil || res.StatusCode != sip.StatusOK {
				t.Fatalf("REGISTER bob: %v %v", res, err)
			}

			for _, transport := range []string{"udp", "tcp", "tls"} {
				chal, res, err := doAuth(ctx, ac, messageReq(k, transport, "alice", "bob"), "alice", "alicepw")
				if err != nil {
					t.Fatalf("MESSAGE over %s: %v", transport, err)
				}
				if authCalls != (chal != nil && chal.StatusCode == sip.StatusProxyAuthRequired) {
					t.Errorf("MESSAGE over %s: challenge %v, want 407 only with AuthCalls", transport, chal)
				}
				if res.StatusCode != sip.StatusOK {
					t.Fatalf("MESSAGE over %s: %d %s\n%s", transport, res.StatusCode, res.Reason, k.Log())
				}
				select {
				case req := <-got:
					if string(req.Body()) != "hello bob" {
						t.Errorf("bob got body %q", req.Body())
					}
					if req.GetHeader("Proxy-Authorization") != nil {
						t.Errorf("credentials were relayed to bob")
					}
				case <-ctx.Done():
					t.Fatal("bob did not receive the MESSAGE")
				}
			}
		})
	}
}

// TestKamailioConnectionReuse proves that a client registered over TCP
// without listening anywhere receives requests over its own connection.
func TestKamailioConnectionReuse(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "alicepw", "bob": "bobpw"}})

	bobUA, bc := newUA(t, k)
	srv, err := sipgo.NewServer(bobUA)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *sip.Request, 1)
	srv.OnMessage(func(req *sip.Request, tx sip.ServerTransaction) {
		got <- req
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	})
	// The contact port is not listened on: only the connection can reach bob.
	_, res, err := doAuth(ctx, bc, registerReq(k, "tcp", "bob", "sip:bob@127.0.0.1:9;transport=tcp", 60, "bob-"+sip.GenerateTagN(8), 1), "bob", "bobpw")
	if err != nil || res.StatusCode != sip.StatusOK {
		t.Fatalf("REGISTER bob: %v %v", res, err)
	}

	_, ac := newUA(t, k)
	_, res, err = doAuth(ctx, ac, messageReq(k, "udp", "alice", "bob"), "alice", "alicepw")
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != sip.StatusOK {
		t.Fatalf("MESSAGE: %d %s\n%s", res.StatusCode, res.Reason, k.Log())
	}
	select {
	case <-got:
	case <-ctx.Done():
		t.Fatal("bob did not receive the MESSAGE")
	}
}

// TestKamailioDialog runs a call through the proxy with AuthCalls: alice
// (TCP, not listening anywhere) INVITEs bob (UDP), is challenged with 407,
// bob answers, alice ACKs along the record-route, and bob's BYE reaches alice
// over her own TCP connection (contact alias + loose routing).
func TestKamailioDialog(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	k := StartKamailio(t, KamailioOptions{
		Users:     map[string]string{"alice": "alicepw", "bob": "bobpw"},
		AuthCalls: true,
	})

	// Callee bob on UDP.
	bobUA, bc := newUA(t, k)
	bobSrv, err := sipgo.NewServer(bobUA)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	bobContact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: pc.LocalAddr().(*net.UDPAddr).Port}}
	bobDialogs := sipgo.NewDialogServerCache(bc, bobContact)
	bobCall := make(chan *sipgo.DialogServerSession, 1)
	bobInvite := make(chan *sip.Request, 1)
	bobSrv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		bobInvite <- req
		dlg, err := bobDialogs.ReadInvite(req, tx)
		if err != nil {
			t.Errorf("bob ReadInvite: %v", err)
			return
		}
		bobCall <- dlg
		if err := dlg.Respond(sip.StatusOK, "OK", nil); err != nil {
			t.Errorf("bob answer: %v", err)
		}
	})
	bobSrv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { bobDialogs.ReadAck(req, tx) })
	go bobSrv.ServeUDP(pc)
	_, res, err := doAuth(ctx, bc, registerReq(k, "udp", "bob", bobContact.Address.String(), 60, "bob-"+sip.GenerateTagN(8), 1), "bob", "bobpw")
	if err != nil || res.StatusCode != sip.StatusOK {
		t.Fatalf("REGISTER bob: %v %v", res, err)
	}

	// Caller alice on TCP with an unreachable contact port.
	aliceUA, ac := newUA(t, k)
	aliceSrv, err := sipgo.NewServer(aliceUA)
	if err != nil {
		t.Fatal(err)
	}
	aliceContact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: 9, UriParams: sip.NewParams()}}
	aliceContact.Address.UriParams.Add("transport", "tcp")
	aliceDialogs := sipgo.NewDialogClientCache(ac, aliceContact)
	aliceBye := make(chan struct{}, 1)
	aliceSrv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := aliceDialogs.ReadBye(req, tx); err != nil {
			t.Errorf("alice ReadBye: %v", err)
		}
		aliceBye <- struct{}{}
	})

	inv := sip.NewRequest(sip.INVITE, aor("bob"))
	inv.SetTransport("TCP")
	inv.SetDestination(k.HostPort("tcp"))
	from := &sip.FromHeader{Address: aor("alice"), Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	inv.AppendHeader(from)
	inv.AppendHeader(&sip.ToHeader{Address: aor("bob")})
	var sawChallenge bool
	call, err := aliceDialogs.WriteInvite(ctx, inv)
	if err != nil {
		t.Fatalf("INVITE: %v", err)
	}
	err = call.WaitAnswer(ctx, sipgo.AnswerOptions{
		Username: "alice", Password: "alicepw",
		OnResponse: func(r *sip.Response) error {
			sawChallenge = sawChallenge || r.StatusCode == sip.StatusProxyAuthRequired
			return nil
		},
	})
	if err != nil {
		t.Fatalf("INVITE not answered: %v\n%s", err, k.Log())
	}
	if !sawChallenge {
		t.Error("INVITE was not challenged with 407")
	}
	if rr := call.InviteResponse.GetHeader("Record-Route"); rr == nil {
		t.Error("200 OK carries no Record-Route")
	}
	req := <-bobInvite
	if req.GetHeader("Proxy-Authorization") != nil {
		t.Error("credentials were relayed to bob")
	}
	if c := req.Contact(); c == nil || !strings.Contains(c.Address.String(), "alias=") {
		t.Errorf("contact seen by bob = %v, want an alias for alice's connection", c)
	}
	if err := call.Ack(ctx); err != nil {
		t.Fatalf("ACK: %v", err)
	}

	bob := <-bobCall
	if err := bob.Bye(ctx); err != nil {
		t.Fatalf("bob BYE: %v\n%s", err, k.Log())
	}
	select {
	case <-aliceBye:
	case <-ctx.Done():
		t.Fatal("alice did not get the BYE")
	}
}

// TestKamailioCancel proves CANCEL handling: bob rings, alice cancels, the
// CANCEL reaches bob through the proxy and alice gets 487.
func TestKamailioCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "alicepw", "bob": "bobpw"}})

	bobUA, bc := newUA(t, k)
	bobSrv, err := sipgo.NewServer(bobUA)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	bobCanceled := make(chan *sip.Request, 1)
	bobSrv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.OnCancel(func(r *sip.Request) { bobCanceled <- r })
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusRinging, "Ringing", nil))
		// sipgo terminates the server transaction when the handler returns.
		select {
		case <-tx.Done():
		case <-ctx.Done():
		}
	})
	go bobSrv.ServeUDP(pc)
	bobContact := fmt.Sprintf("sip:bob@127.0.0.1:%d", pc.LocalAddr().(*net.UDPAddr).Port)
	_, res, err := doAuth(ctx, bc, registerReq(k, "udp", "bob", bobContact, 60, "bob-"+sip.GenerateTagN(8), 1), "bob", "bobpw")
	if err != nil || res.StatusCode != sip.StatusOK {
		t.Fatalf("REGISTER bob: %v %v", res, err)
	}

	_, ac := newUA(t, k)
	alice := sipgo.DialogUA{Client: ac, ContactHDR: sip.ContactHeader{Address: aor("alice")}}
	inv := sip.NewRequest(sip.INVITE, aor("bob"))
	// Outbound proxy as a preloaded Route: sipgo's dialog CANCEL copies Route
	// headers but not SetDestination, which would send the CANCEL to
	// bob@127.0.0.1 i.e. port 5060.
	inv.AppendHeader(sip.NewHeader("Route", "<sip:"+k.HostPort("udp")+";lr>"))
	call, err := alice.WriteInvite(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, stopWaiting := context.WithCancel(ctx)
	defer stopWaiting()
	err = call.WaitAnswer(waitCtx, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
		if r.StatusCode == sip.StatusRinging {
			stopWaiting() // makes WaitAnswer send CANCEL
		}
		return nil
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitAnswer = %v, want context.Canceled after CANCEL", err)
	}
	if call.InviteResponse == nil || call.InviteResponse.StatusCode != sip.StatusRequestTerminated {
		t.Errorf("final INVITE response = %v, want 487", call.InviteResponse)
	}
	select {
	case r := <-bobCanceled:
		if !r.IsCancel() {
			t.Errorf("bob's INVITE was ended by %s, want CANCEL", r.Method)
		}
	case <-ctx.Done():
		t.Fatalf("CANCEL did not reach bob\n%s", k.Log())
	}
}

func TestUsrlocUser(t *testing.T) {
	for in, want := range map[string]string{
		"sip:alice@127.0.0.1":               "alice",
		"<sips:alice@localhost:5061>":       "alice",
		"alice":                             "alice",
		"sip:alice@127.0.0.1;transport=tcp": "alice",
	} {
		if got := usrlocUser(in); got != want {
			t.Errorf("usrlocUser(%q) = %q, want %q", in, got, want)
		}
	}
}
