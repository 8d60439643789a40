package phone

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	lifecycle "github.com/dialtone/dialtone/phone/call"
	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// fuzzSecret is the password the fuzzed challenges are answered with: it must never show up
// in a header, an error or a reason.
const fuzzSecret = "fuzz-pa55-w0rd-never-in-output"

// FuzzOutgoingResponse parses arbitrary bytes with the phone's own SIP parser (the one sipgo
// runs on every datagram, transferParser) and, when they are a response, hands it to every
// function of the client side that reads a response to our INVITE, REGISTER or MESSAGE:
// provisional responses with odd SDP (the early-media path of runOutgoing), 2xx with garbage
// SDP (the answer path and the dialog kept for transfer and re-INVITEs), 401/407 with garbage
// challenges (authorize), 423 and 2xx of REGISTER (granted lifetimes, Via received/rport),
// 3xx and 503 (the error classification and failover). The call state machine takes the
// response as runOutgoing gives it. Invariants: no panic; the password appears nowhere; a
// granted registration lifetime is positive (a negative one re-registers every 500 ms: a
// retry storm); an error carries the response's code.
//
// The seed corpus is testdata/fuzz/FuzzOutgoingResponse, one file per case, named for what
// it is.
func FuzzOutgoingResponse(f *testing.F) {
	f.Add([]byte("SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:alice@127.0.0.1>;tag=a\r\nTo: <sip:bob@127.0.0.1>;tag=b\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1;received=192.0.2.1;rport=1\r\nFrom: <sip:alice@127.0.0.1>;tag=a\r\nTo: <sip:bob@127.0.0.1>;tag=b\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\nContact: <sip:alice@127.0.0.1:5060>;expires=9999999999\r\nExpires: 9999999999\r\nContent-Length: 0\r\n\r\n"))
	parser := transferParser()
	p, err := New(Config{Accounts: []Account{{Name: "a", AOR: "sip:alice@127.0.0.1", Password: func(context.Context) (string, error) { return fuzzSecret, nil }}}})
	if err != nil {
		f.Fatal(err)
	}
	acc := p.accounts[0]
	mp, err := p.policyFor(acc, true, true) // as over TLS: SDES keys offered, so answers with a=crypto are accepted
	if err != nil {
		f.Fatal(err)
	}
	local := p.localSDP(mediaAddr{IP: "127.0.0.1", RTP: 40000, RTCP: 40001}, mp)
	offer, err := sdp.Offer(local)
	if err != nil {
		f.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := parser.ParseSIP(data)
		if err != nil {
			return
		}
		res, ok := msg.(*sip.Response)
		if !ok {
			return
		}
		// Challenges: the INVITE, REGISTER and MESSAGE we send answer them alike.
		for _, method := range []sip.RequestMethod{sip.INVITE, sip.REGISTER, sip.MESSAGE} {
			req := fuzzOurRequest(method, offer)
			stale, err := authorize(req, res, acc.AuthUser, fuzzSecret)
			if err != nil {
				noSecret(t, "authorize error", err.Error())
				continue
			}
			_ = stale
			n := 0
			for _, name := range []string{"Authorization", "Proxy-Authorization"} {
				for _, h := range req.GetHeaders(name) {
					n++
					noSecret(t, name, h.Value())
				}
			}
			if n != 1 {
				t.Fatalf("%s: %d credentials headers after authorize", method, n)
			}
		}
		_ = hasStaleChallenge(res)
		for _, cs := range []bool{false, true} {
			e := responseError("call sip:bob@127.0.0.1", res, cs)
			if e.Code != int(res.StatusCode) {
				t.Fatalf("error code %d for a %d", e.Code, res.StatusCode)
			}
			noSecret(t, "response error", e.Error())
		}
		// The INVITE's attempt bookkeeping (failover to the next target).
		a := &inviteAttempt{}
		a.heard(res)
		derr := &sipgo.ErrDialogResponse{Res: res}
		_ = a.failsOver(derr)
		var pe *Error
		if e := a.asError("call", "127.0.0.1:5060", UDP, derr); !errors.As(e, &pe) || pe.Code != int(res.StatusCode) {
			t.Fatalf("attempt error %v for a %d", e, res.StatusCode)
		}
		fuzzRegisterResponse(t, acc, quiet, res)
		fuzzInviteResponse(t, p, acc, local, offer, res)
	})
}

// fuzzOurRequest is a request as we send it: the fuzzed response answers it.
func fuzzOurRequest(method sip.RequestMethod, offer []byte) *sip.Request {
	req := sip.NewRequest(method, sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: 5060})
	req.AppendHeader(sip.NewHeader("Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK.fuzz;rport"))
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1"}, Params: sip.NewParams()}
	from.Params.Add("tag", "a")
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1"}, Params: sip.NewParams()})
	cid := sip.CallIDHeader("c1")
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: method})
	if method == sip.INVITE {
		ct := sip.ContentTypeHeader("application/sdp")
		req.AppendHeader(&ct)
		req.SetBody(offer)
	}
	return req
}

// fuzzRegisterResponse reads res as the answer to a REGISTER: the public address in its Via,
// the lifetime granted.
func fuzzRegisterResponse(t *testing.T, acc *account, log *slog.Logger, res *sip.Response) {
	r := &sipRegistrar{acc: acc, log: log, contact: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: 5070}}
	_ = r.learnPublicAddress(res)
	for _, asked := range []time.Duration{600 * time.Second, 0} {
		got := r.result(res, asked)
		if asked > 0 && got.Expires <= 0 {
			t.Fatalf("registration granted for %v (asked %v): a refresh every 500 ms, a retry storm", got.Expires, asked)
		}
		if refresh := refreshAfter(got.Expires); asked > 0 && refresh < 500*time.Millisecond {
			t.Fatalf("refresh after %v", refresh)
		}
	}
	for _, name := range []string{"Expires", "Min-Expires", "Retry-After"} {
		if d := headerSeconds(res, name); d < 0 {
			t.Fatalf("%s: %v", name, d)
		}
	}
}

// fuzzInviteResponse reads res as runOutgoing does: a provisional one's early media, a 2xx's
// answer and dialog, and the state machine's step; the dialog as trackDialog and
// remoteTarget (the re-INVITE's Request-URI) read it.
func fuzzInviteResponse(t *testing.T, p *Phone, acc *account, local sdp.Local, offer []byte, res *sip.Response) {
	c := newCall("fuzz", acc, Outgoing)
	c.advance(lifecycle.Dial{})
	in := lifecycle.Response{Code: int(res.StatusCode), Reason: res.Reason, HasSDP: len(res.Body()) > 0}
	if in.HasSDP && res.StatusCode >= 180 && res.StatusCode < 300 {
		if n, err := sdp.Accept(local, res.Body()); err == nil {
			if params, err := mediaParams(n, CallAudio{}); err == nil {
				in.SDPOK = true
				if !params.Remote.IsValid() && !n.Hold {
					t.Fatalf("accepted answer without a remote address: %+v", n)
				}
			}
		}
	}
	for _, e := range c.advance(in) {
		if r, ok := e.(lifecycle.Respond); ok && (r.Code < 100 || r.Code > 699) {
			t.Fatalf("machine responds %d", r.Code)
		}
	}
	if !res.IsSuccess() {
		return
	}
	if _, err := sip.DialogIDFromResponse(res); err != nil {
		return // sipgo's WaitAnswer refuses such a 2xx: no dialog
	}
	sess := &sipgo.DialogClientSession{Dialog: sipgo.Dialog{InviteRequest: fuzzOurRequest(sip.INVITE, offer), InviteResponse: res}}
	sess.Init()
	if u, ok := remoteTarget(sess); ok && u.Host == "" && res.Contact() != nil && res.Contact().Address.Host != "" {
		t.Fatalf("re-INVITE target %v from Contact %v", u, res.Contact())
	}
	p.trackDialog(c, sess)
	p.xfer.mu.Lock()
	d := p.xfer.dialogs[c.id]
	p.xfer.mu.Unlock()
	if d == nil {
		t.Fatal("2xx dialog not tracked")
	}
	if tag, _ := res.To().Params.Get("tag"); d.remoteTag != tag {
		t.Fatalf("remote tag %q, To tag %q", d.remoteTag, tag)
	}
	p.xfer.mu.Lock()
	delete(p.xfer.dialogs, c.id)
	p.xfer.mu.Unlock()
}

func noSecret(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, fuzzSecret) {
		t.Fatalf("password in %s: %s", what, s)
	}
}
