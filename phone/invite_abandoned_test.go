package phone

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo/sip"
)

// lateServer is a UDP "callee" the test drives by hand: it reads what the phone sends and
// answers the INVITE whenever the test says.
type lateServer struct {
	t      *testing.T
	pc     net.PacketConn
	invite *sip.Request
	from   net.Addr
}

func newLateServer(t *testing.T) *lateServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return &lateServer{t: t, pc: pc}
}

// read returns the next request the phone sends (retransmissions of ones already seen too),
// failing the test after wait.
func (s *lateServer) read(wait time.Duration) *sip.Request {
	s.t.Helper()
	buf := make([]byte, 65535)
	_ = s.pc.SetReadDeadline(time.Now().Add(wait))
	for {
		n, from, err := s.pc.ReadFrom(buf)
		if err != nil {
			s.t.Fatalf("nothing from the phone within %v: %v", wait, err)
		}
		msg, err := sip.NewParser().ParseSIP(buf[:n])
		if err != nil {
			continue // a keep-alive
		}
		if req, ok := msg.(*sip.Request); ok {
			s.from = from
			return req
		}
	}
}

// readMethod skips retransmissions until a request of method m arrives.
func (s *lateServer) readMethod(m sip.RequestMethod, wait time.Duration) *sip.Request {
	s.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		req := s.read(time.Until(deadline))
		if req.Method == m {
			return req
		}
	}
}

// respond sends a response to req with code, a fixed To-tag and (for 2xx) a Contact.
func (s *lateServer) respond(req *sip.Request, code int, reason string) {
	s.t.Helper()
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	if to := res.To(); to != nil && code > 100 {
		to.Params.Add("tag", "callee1")
	}
	if code >= 200 && code < 300 {
		local := s.pc.LocalAddr().(*net.UDPAddr)
		res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "x", Host: local.IP.String(), Port: local.Port}})
	}
	if _, err := s.pc.WriteTo([]byte(res.String()), s.from); err != nil {
		s.t.Fatal(err)
	}
}

// respondSDP is respond with an SDP answer to req's offer (its RTP goes nowhere).
func (s *lateServer) respondSDP(req *sip.Request, code int, reason string) {
	s.t.Helper()
	o, err := sdp.ParseOffer(req.Body())
	if err != nil {
		s.t.Fatal(err)
	}
	answer, _, err := o.Answer(sdp.Local{Addr: "127.0.0.1", Port: 9, Codecs: supportedCodecs(), DTMF: true})
	if err != nil {
		s.t.Fatal(err)
	}
	res := sip.NewResponseFromRequest(req, code, reason, answer)
	res.To().Params.Add("tag", "callee1")
	local := s.pc.LocalAddr().(*net.UDPAddr)
	res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "x", Host: local.IP.String(), Port: local.Port}})
	ct := sip.ContentTypeHeader("application/sdp")
	res.AppendHeader(&ct)
	if _, err := s.pc.WriteTo([]byte(res.String()), s.from); err != nil {
		s.t.Fatal(err)
	}
}

// dialLate calls srv from a phone of its own and reads the INVITE into srv.invite.
func dialLate(t *testing.T, srv *lateServer) (*Phone, <-chan Event, string) {
	t.Helper()
	caller, _, events := runPhone(t, Config{})
	id, err := caller.Dial("", "sip:x@"+srv.pc.LocalAddr().String(), CallAudio{}, DialOptions{RingTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	srv.invite = srv.readMethod(sip.INVITE, 10*time.Second)
	return caller, events, id
}

// hangUpBeforeAnyResponse dials the server, waits for the INVITE, hangs up and checks the call
// ended for the user at once, before the server said anything.
func hangUpBeforeAnyResponse(t *testing.T, srv *lateServer) {
	t.Helper()
	caller, events, id := dialLate(t, srv)
	if err := caller.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if end := waitCall(t, events, id, CallEnded); end.By != "local" || end.Reason != "cancelled" {
		t.Fatalf("call ended %+v, want cancelled by the user", end)
	}
}

// TestHangupBeforeAnyResponseCancelsOnceItRings: the callee's 180 that comes after the user hung
// up gets a CANCEL (RFC 3261 9.1: a CANCEL waits for a provisional response), and its 487 an
// ACK. Before, the INVITE was forgotten and the callee rang on until its own timeout.
func TestHangupBeforeAnyResponseCancelsOnceItRings(t *testing.T) {
	srv := newLateServer(t)
	hangUpBeforeAnyResponse(t, srv)
	srv.respond(srv.invite, 180, "Ringing")
	cancel := srv.readMethod(sip.CANCEL, 5*time.Second)
	if cancel.CallID().Value() != srv.invite.CallID().Value() || cancel.CSeq().SeqNo != srv.invite.CSeq().SeqNo {
		t.Fatalf("CANCEL %s / %d does not match the INVITE's %s / %d", cancel.CallID().Value(), cancel.CSeq().SeqNo,
			srv.invite.CallID().Value(), srv.invite.CSeq().SeqNo)
	}
	srv.respond(cancel, 200, "OK")
	srv.respond(srv.invite, 487, "Request Terminated")
	if ack := srv.readMethod(sip.ACK, 5*time.Second); !strings.Contains(ack.CSeq().Value(), "ACK") {
		t.Fatalf("ACK with CSeq %q", ack.CSeq().Value())
	}
}

// TestHangupBeforeAnyResponseAnsweredLater: a callee that answers (200) after the user hung up
// gets its ACK and then a BYE, so it does not think the call is up.
func TestHangupBeforeAnyResponseAnsweredLater(t *testing.T) {
	srv := newLateServer(t)
	hangUpBeforeAnyResponse(t, srv)
	srv.respond(srv.invite, 200, "OK")
	srv.expectAckAndBye()
}

// TestAnswerCrossingTheCancelIsHungUp: the callee rings, the user hangs up, and the callee's
// 200 crosses our CANCEL (its 200 to the CANCEL, then a 200 to the INVITE instead of a 487).
// The 200 gets its ACK and the call a BYE. sipgo read that 200 while it waited for the 487 and
// left it unanswered: the callee's phone showed a call to nobody until its own timeout.
func TestAnswerCrossingTheCancelIsHungUp(t *testing.T) {
	srv, events, id := ringThenHangUp(t)
	srv.respond(srv.invite, 200, "OK") // answered just before the CANCEL came
	srv.expectAckAndBye()
	if end := waitCall(t, events, id, CallEnded); end.By != "local" {
		t.Fatalf("call ended %+v, want hung up by the user", end)
	}
}

// TestCancelWithout487EndsTheCall: a callee that answers our CANCEL with 200 but never sends
// the 487 (some gateways and SBCs) does not keep the call ringing: it ends as the user hung
// it up within cancelGrace, where sipgo waited for the 487 until Timer B (32 s). The INVITE is
// still followed: the 200 the callee sends later gets its ACK and a BYE.
func TestCancelWithout487EndsTheCall(t *testing.T) {
	srv, events, id := ringThenHangUp(t)
	// waitCall gives up after 10 s, well before Timer B.
	if end := waitCall(t, events, id, CallEnded); end.By != "local" || end.Reason != "cancelled" {
		t.Fatalf("call ended %+v, want cancelled by the user", end)
	}
	srv.respond(srv.invite, 200, "OK") // the callee picked up after all
	srv.expectAckAndBye()
}

// ringThenHangUp dials a late server that rings (180); the user hangs up, and the server
// answers the CANCEL 200 and nothing more yet.
func ringThenHangUp(t *testing.T) (*lateServer, <-chan Event, string) {
	t.Helper()
	srv := newLateServer(t)
	caller, events, id := dialLate(t, srv)
	srv.respond(srv.invite, 180, "Ringing")
	waitCall(t, events, id, CallRinging)
	if err := caller.Hangup(id); err != nil {
		t.Fatal(err)
	}
	srv.respond(srv.readMethod(sip.CANCEL, 5*time.Second), 200, "OK")
	return srv, events, id
}

// expectAckAndBye reads the ACK for the callee's 200 and the BYE in its dialog, and answers
// the BYE.
func (s *lateServer) expectAckAndBye() {
	s.t.Helper()
	s.readMethod(sip.ACK, 5*time.Second)
	bye := s.readMethod(sip.BYE, 5*time.Second)
	if tag, _ := bye.To().Params.Get("tag"); tag != "callee1" || bye.CallID().Value() != s.invite.CallID().Value() {
		s.t.Fatalf("BYE to tag %q, Call-ID %s; want the callee's dialog", tag, bye.CallID().Value())
	}
	s.respond(bye, 200, "OK")
}

// TestManyProvisionalResponses: a call that gets more than ten provisional responses before
// its answer (a proxy forking to a ring group, each phone sending 180 and 183; a queue that
// repeats its 183) is answered all the same. sipgo's WaitAnswer gave up at the eleventh, and
// the call failed as a network error while the phones rang on.
func TestManyProvisionalResponses(t *testing.T) {
	srv := newLateServer(t)
	caller, events, id := dialLate(t, srv)
	for range 15 {
		srv.respond(srv.invite, 180, "Ringing")
	}
	srv.respondSDP(srv.invite, 200, "OK")
	srv.readMethod(sip.ACK, 5*time.Second)
	if st := waitCall(t, events, id, CallAnswered); st.ID != id {
		t.Fatalf("answered %+v", st)
	}
	if err := caller.Hangup(id); err != nil {
		t.Fatal(err)
	}
	srv.respond(srv.readMethod(sip.BYE, 5*time.Second), 200, "OK")
}

// TestNoInviteAfterAHangUpDuringTheChallenge: the user hangs up while the answer to the
// INVITE's 401 waits for a slow password source (a keyring prompt): the call ends at once, as
// hung up, and the INVITE with the credentials does not go out. The wait went on until the
// source answered, and then the INVITE went, and the callee rang a moment for nobody.
func TestNoInviteAfterAHangUpDuringTheChallenge(t *testing.T) {
	srv := newLateServer(t)
	asked, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	pw := func(ctx context.Context) (string, error) {
		once.Do(func() { close(asked) })
		select {
		case <-release:
			return "pw", nil
		case <-ctx.Done(): // as password_cmd does: the command is killed
			return "", ctx.Err()
		}
	}
	caller, _, events := runPhone(t, Config{KeepAlive: -1, Accounts: []Account{{Name: "a",
		AOR: "sip:alice@127.0.0.1", OutboundProxy: "sip:" + srv.pc.LocalAddr().String(), Password: pw}}})
	id, err := caller.Dial("a", "sip:bob@"+srv.pc.LocalAddr().String(), CallAudio{}, DialOptions{RingTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	inv := srv.readMethod(sip.INVITE, 10*time.Second)
	res := sip.NewResponseFromRequest(inv, 401, "Unauthorized", nil)
	res.AppendHeader(sip.NewHeader("WWW-Authenticate", `Digest realm="r", nonce="n", qop="auth"`))
	if _, err := srv.pc.WriteTo([]byte(res.String()), srv.from); err != nil {
		t.Fatal(err)
	}
	select {
	case <-asked:
	case <-time.After(5 * time.Second):
		t.Fatal("the password was never asked for")
	}
	if err := caller.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if end := waitCall(t, events, id, CallEnded); end.By != "local" || end.Failure == FailureConfig || end.Failure == FailureAuth {
		t.Fatalf("call ended %+v, want hung up by the user", end)
	}
	close(release)
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		buf := make([]byte, 65535)
		_ = srv.pc.SetReadDeadline(deadline)
		n, _, err := srv.pc.ReadFrom(buf)
		if err != nil {
			break
		}
		if msg, err := sip.NewParser().ParseSIP(buf[:n]); err == nil {
			if req, ok := msg.(*sip.Request); ok && req.Method == sip.INVITE && req.GetHeader("Authorization") != nil {
				t.Fatal("the INVITE with credentials went out after the hang-up")
			}
		}
	}
}
