package phone

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// authURI is the uri= of a digest answer header, "-" when req has none.
func authURI(req *sip.Request, name string) string {
	h := req.GetHeader(name)
	if h == nil {
		return "-"
	}
	_, rest, _ := strings.Cut(h.Value(), `uri="`)
	uri, _, _ := strings.Cut(rest, `"`)
	return uri
}

// TestRedirectThroughAccount: a call through an account whose proxy challenges (407), whose
// far end challenges (401) and then redirects (302): the INVITE to the new target goes the same
// way with the proxy's answer, recomputed for the new Request-URI, and without the far end's
// (it is not sent where a 3xx pointed); the new target's own 401 is answered in turn. Its 486
// then ends the call busy. Before, a 3xx ended the call as declined.
func TestRedirectThroughAccount(t *testing.T) {
	ua, srv := sipgoServer(t)
	var mu sync.Mutex
	var seen []string // each INVITE: its user, Proxy-Authorization's uri, Authorization's uri
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) { _ = tx.Respond(registered(req)) })
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		mu.Lock()
		seen = append(seen, req.Recipient.User+" "+authURI(req, "Proxy-Authorization")+" "+authURI(req, "Authorization"))
		mu.Unlock()
		switch {
		case req.GetHeader("Proxy-Authorization") == nil:
			challengeMD5(req, tx, 407, "Proxy Authentication Required", "Proxy-Authenticate")
		case req.GetHeader("Authorization") == nil:
			challengeMD5(req, tx, 401, "Unauthorized", "WWW-Authenticate")
		case req.Recipient.User == "fwd":
			res := sip.NewResponseFromRequest(req, 302, "Moved Temporarily", nil)
			res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1"}})
			_ = tx.Respond(res)
		default:
			_ = tx.Respond(sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
		}
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	p, events := registrarPhoneEvents(t, ua, srv)
	id, err := p.Dial("a", "sip:fwd@127.0.0.1", CallAudio{}, DialOptions{RingTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var redirected *CallRedirected
	deadline := time.After(15 * time.Second)
	for end := false; !end; {
		select {
		case ev := <-events:
			switch ev := ev.(type) {
			case CallRedirected:
				redirected = &ev
			case CallStatus:
				if ev.ID == id && ev.State == CallEnded {
					end = true
					if ev.Code != 486 || ev.Peer != "sip:bob@127.0.0.1" {
						t.Errorf("ended %d %s with peer %s, want 486 from sip:bob@127.0.0.1", ev.Code, ev.Reason, ev.Peer)
					}
				}
			}
		case <-deadline:
			t.Fatal("the call did not end")
		}
	}
	if redirected == nil || redirected.To != "sip:bob@127.0.0.1" || redirected.Code != 302 {
		t.Errorf("redirected %+v, want to sip:bob@127.0.0.1 by 302", redirected)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"fwd - -",
		"fwd sip:fwd@127.0.0.1 -",
		"fwd sip:fwd@127.0.0.1 sip:fwd@127.0.0.1",
		"bob sip:bob@127.0.0.1 -", // the far end's answer left behind, the proxy's recomputed
		"bob sip:bob@127.0.0.1 sip:bob@127.0.0.1",
	}
	if strings.Join(seen, ", ") != strings.Join(want, ", ") {
		t.Errorf("INVITEs (user, Proxy-Authorization uri, Authorization uri):\n got %q\nwant %q", seen, want)
	}
}

// TestRedirectMovesOnPastFailures: a direct call redirected (300) to three targets, best q
// first: the first challenges (401: no credentials to answer with on a direct call), the second
// answers 503 (unavailable), the third, a phone, answers. Each failure moves on to the next
// target (RFC 3261 8.1.3.4), the front end hears of each move, and the call is answered there;
// the history keeps the number dialled.
func TestRedirectMovesOnPastFailures(t *testing.T) {
	target := func(code int) string {
		ua, srv := sipgoServer(t)
		srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
			if code == 401 {
				challengeMD5(req, tx, 401, "Unauthorized", "WWW-Authenticate")
				return
			}
			_ = tx.Respond(sip.NewResponseFromRequest(req, code, "Service Unavailable", nil))
		})
		srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		serveUDP(t, ua, srv, pc)
		return pc.LocalAddr().String()
	}
	challenger, unavailable := target(401), target(503)
	callee, calleeAddr, calleeEvents := runPhone(t, Config{})
	ua, srv := sipgoServer(t)
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewResponseFromRequest(req, 300, "Multiple Choices", nil)
		for _, c := range []string{"<sip:c@" + calleeAddr + ">;q=0.1", "<sip:a@" + challenger + ">;q=0.9", "<sip:u@" + unavailable + ">;q=0.5"} {
			res.AppendHeader(sip.NewHeader("Contact", c))
		}
		_ = tx.Respond(res)
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveUDP(t, ua, srv, pc)
	calls := &callLog{}
	caller, _, events := runPhone(t, Config{Calls: calls})
	dialled := "sip:x@" + pc.LocalAddr().String()
	id, err := caller.Dial("", dialled, CallAudio{}, DialOptions{RingTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	in := answerNext(t, callee, calleeEvents, CallAudio{})
	var went []string
	deadline := time.After(15 * time.Second)
	for answered := false; !answered; {
		select {
		case ev := <-events:
			switch ev := ev.(type) {
			case CallRedirected:
				went = append(went, strings.SplitN(ev.To, "@", 2)[0])
			case CallStatus:
				answered = ev.ID == id && ev.State == CallAnswered
			}
		case <-deadline:
			t.Fatalf("not answered; redirected to %v", went)
		}
	}
	if strings.Join(went, " ") != "sip:a sip:u sip:c" {
		t.Errorf("redirected to %v, want sip:a, sip:u, sip:c (best q first, each failure moving on)", went)
	}
	if err := callee.Hangup(in); err != nil {
		t.Fatal(err)
	}
	end := waitCall(t, events, id, CallEnded)
	if !strings.HasPrefix(end.Peer, "sip:c@") {
		t.Errorf("the call's peer %s, want the target that answered", end.Peer)
	}
	if last, n := calls.last(); n != 1 || last.Peer != dialled {
		t.Errorf("history: %d calls, the last to %s; want one, to the number dialled, %s", n, last.Peer, dialled)
	}
}
