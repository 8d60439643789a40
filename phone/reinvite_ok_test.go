package phone

import (
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo/sip"
)

// TestReinviteOKRetransmittedUntilACK: our 200 to the far end's re-INVITE is sent again at T1,
// 2·T1, … (RFC 3261 13.3.1.4) while no ACK comes, and no more once it has: a 200 lost on UDP
// used to leave the far end's re-INVITE unanswered until its Timer B.
func TestReinviteOKRetransmittedUntilACK(t *testing.T) {
	tp, tAddr, tEv := runPhone(t, Config{})
	r, _, _ := answeredRaw(t, tp, tAddr, tEv)
	f := newRawFarEnd(t, r, tAddr)
	f.send(f.inDialog(sip.INVITE, r.sess.Load().InviteRequest.Body())) // the same session offered again
	if n := f.count(1700*time.Millisecond, isOKToInvite); n < 3 {
		t.Fatalf("%d 200s in 1.7 s without an ACK, want at least 3 (at 0, T1 and 3·T1)", n)
	}
	f.send(f.inDialog(sip.ACK, nil))
	// The next would leave at 7·T1 (3.5 s), within this window; the last one came at 3·T1.
	if n := f.count(2500*time.Millisecond, isOKToInvite); n != 0 {
		t.Fatalf("%d more 200s after the ACK", n)
	}
}

// TestReinviteOKWithoutACKEndsTheCall: when our 200 to the far end's re-INVITE has had no ACK
// for 64·T1, the call ends with our BYE (RFC 3261 13.3.1.4: the session SHOULD end), as "no
// ACK". It went on before, on a session the far end never learnt was accepted.
func TestReinviteOKWithoutACKEndsTheCall(t *testing.T) {
	old := okAckWait
	okAckWait = time.Second // stands in for 64*T1
	t.Cleanup(func() { okAckWait = old })
	tp, tAddr, tEv := runPhone(t, Config{})
	r, id, _ := answeredRaw(t, tp, tAddr, tEv)
	f := newRawFarEnd(t, r, tAddr)
	f.send(f.inDialog(sip.INVITE, r.sess.Load().InviteRequest.Body()))
	// The re-INVITE's Contact is the far end's target from now on: the BYE comes here.
	isBye := func(m sip.Message) bool { req, ok := m.(*sip.Request); return ok && req.Method == sip.BYE }
	if n := f.count(3*time.Second, isBye); n == 0 {
		t.Fatal("no BYE within 3 s of a 200 whose ACK waits 1 s")
	}
	if st := waitEnded(t, tEv, id)[id]; st.Code != 408 || st.Reason != "no ACK" {
		t.Errorf("ended %d %q, want 408 no ACK", st.Code, st.Reason)
	}
}

func isOKToInvite(m sip.Message) bool {
	res, ok := m.(*sip.Response)
	return ok && res.StatusCode == 200 && res.CSeq().MethodName == sip.INVITE
}

// rawFarEnd sends requests in the raw caller's dialog from a socket of its own, which its
// Contact names, and reads what the phone sends there.
type rawFarEnd struct {
	t     *testing.T
	r     *rawCaller
	pc    net.PacketConn
	port  int
	phone *net.UDPAddr
}

func newRawFarEnd(t *testing.T, r *rawCaller, phoneAddr string) *rawFarEnd {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	phone, err := net.ResolveUDPAddr("udp", phoneAddr)
	if err != nil {
		t.Fatal(err)
	}
	return &rawFarEnd{t: t, r: r, pc: pc, port: pc.LocalAddr().(*net.UDPAddr).Port, phone: phone}
}

// inDialog is a request of method in the dialog, CSeq one above the INVITE's.
func (f *rawFarEnd) inDialog(method sip.RequestMethod, body []byte) *sip.Request {
	s := f.r.sess.Load()
	req := sip.NewRequest(method, s.InviteResponse.Contact().Address)
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "127.0.0.1", Port: f.port,
		Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	req.AppendHeader(via)
	req.AppendHeader(sip.HeaderClone(s.InviteRequest.From()))
	req.AppendHeader(sip.HeaderClone(s.InviteResponse.To()))
	req.AppendHeader(sip.HeaderClone(s.InviteRequest.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: s.InviteRequest.CSeq().SeqNo + 1, MethodName: method})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "raw", Host: "127.0.0.1", Port: f.port}})
	if body != nil {
		ct := sip.ContentTypeHeader("application/sdp")
		req.AppendHeader(&ct)
	}
	req.SetBody(body)
	return req
}

func (f *rawFarEnd) send(req *sip.Request) {
	if _, err := f.pc.WriteTo([]byte(req.String()), f.phone); err != nil {
		f.t.Fatal(err)
	}
}

// count counts the messages that match within d.
func (f *rawFarEnd) count(d time.Duration, match func(sip.Message) bool) int {
	n := 0
	buf := make([]byte, 65535)
	deadline := time.Now().Add(d)
	for {
		_ = f.pc.SetReadDeadline(deadline)
		k, _, err := f.pc.ReadFrom(buf)
		if err != nil {
			return n
		}
		if msg, err := sip.NewParser().ParseSIP(buf[:k]); err == nil && match(msg) {
			n++
		}
	}
}

// failingTx is a server transaction that has ended: every response fails, as sipgo's do once
// a TCP or TLS transaction is over.
type failingTx struct {
	sip.ServerTransaction
	n atomic.Int32
}

func (t *failingTx) Respond(*sip.Response) error {
	t.n.Add(1)
	return sip.ErrTransactionTerminated
}

// connTx is an ended server transaction (its responses fail) whose connection still writes:
// sipgo's over TCP once the re-INVITE is answered.
type connTx struct {
	failingTx
	conn *countingConn
}

func (t *connTx) Connection() sip.Connection { return t.conn }

type countingConn struct {
	sip.Connection
	n atomic.Int32
}

func (c *countingConn) WriteMsg(sip.Message) error {
	c.n.Add(1)
	return nil
}

// TestReinviteOKGiveUpOutlivesAFailedResend: a resend of our 200 that cannot go at all stops
// the resends but not the wait for the ACK, whose absence still ends the call (noAck). The
// retransmitter used to return at the failure, and the call went on without the ACK for good.
func TestReinviteOKGiveUpOutlivesAFailedResend(t *testing.T) {
	c, h, req := holdRunAlone(t, 3*time.Second) // the resend at T1 (0.5 s) fails well before
	w := c.awaitOKAck(req, nil)
	tx := &failingTx{}
	h.retransmitOK(w, tx, sip.NewResponseFromRequest(req, 200, "OK", nil))
	select {
	case <-h.noAck:
	case <-time.After(6 * time.Second):
		t.Fatal("no word of the missing ACK after a failed resend")
	}
	if n := tx.n.Load(); n != 1 {
		t.Errorf("%d resends, want the one that failed and no more", n)
	}
}

// TestReinviteOKResentOnItsConnection: once the transaction has ended (sipgo ends it over TCP
// as the re-INVITE is answered), our 200 goes again on the request's connection until the ACK
// comes, as RFC 3261 13.3.1.4 wants on a reliable transport too: a hop past a proxy may be UDP.
func TestReinviteOKResentOnItsConnection(t *testing.T) {
	c, h, req := holdRunAlone(t, 3*time.Second)
	w := c.awaitOKAck(req, nil)
	tx := &connTx{conn: &countingConn{}}
	h.retransmitOK(w, tx, sip.NewResponseFromRequest(req, 200, "OK", nil))
	time.Sleep(2 * time.Second) // resends at 0.5 and 1.5 s
	if n := tx.conn.n.Load(); n < 2 {
		t.Fatalf("%d 200s on the connection in 2 s, want at least 2 (at T1 and 3·T1)", n)
	}
	ack := sip.NewRequest(sip.ACK, sip.Uri{Scheme: "sip", Host: "127.0.0.1"})
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: 2, MethodName: sip.ACK})
	c.noteAck(ack)
	sent := tx.conn.n.Load()
	select {
	case <-h.noAck:
		t.Fatal("the ACK came, yet the call is told it did not")
	case <-time.After(okAckWait):
	}
	if n := tx.conn.n.Load(); n != sent {
		t.Errorf("%d more 200s after the ACK", n-sent)
	}
}

// TestOfferInAnUnsentOKIsNotAwaited: when our 200 carrying our offer (to a re-INVITE without
// SDP) cannot be sent, the talk loop hears at once that no answer will come, as from an ACK
// without one: the machine would otherwise await it for good, holding our offers back and
// refusing the far end's with 491.
func TestOfferInAnUnsentOKIsNotAwaited(t *testing.T) {
	c, h, req := holdRunAlone(t, okAckWait)
	h.offer = &remoteOffer{req: req, tx: &failingTx{}, done: make(chan struct{})}
	h.answer, h.inAck = []byte("v=0\r\n"), &sdp.Local{Port: 4000}
	h.respond(200, "OK")
	select {
	case ans := <-c.ackAnswers:
		if ans.body != nil || ans.local.Port != 4000 {
			t.Errorf("%+v, want our offer without an answer", ans)
		}
	default:
		t.Fatal("the talk loop is not told that the offer in the unsent 200 goes unanswered")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.okWait != nil {
		t.Error("the unsent 200 still waits for its ACK")
	}
}

// holdRunAlone is a call's hold run with no phone or media behind it, and a re-INVITE of CSeq
// 2 for it to answer; okAckWait is ackWait until the test ends.
func holdRunAlone(t *testing.T, ackWait time.Duration) (*call, *holdRun, *sip.Request) {
	t.Helper()
	old := okAckWait
	okAckWait = ackWait
	t.Cleanup(func() { okAckWait = old })
	c := newCall("c1", nil, Incoming)
	h := newHoldRun(&Phone{log: slog.New(slog.DiscardHandler)}, c, nil, nil)
	t.Cleanup(h.close)
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", Host: "127.0.0.1"})
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 2, MethodName: sip.INVITE})
	return c, h, req
}
