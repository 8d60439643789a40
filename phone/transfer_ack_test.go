package phone

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// rawCaller is a caller built on sipgo's own dialog API (another user agent than the phone's
// code) that decides when its ACK leaves, so a test can make its in-dialog requests overtake
// the ACK, as sipgo's one goroutine per request (or the network) may do on its own.
type rawCaller struct {
	client *sipgo.Client
	sess   atomic.Pointer[sipgo.DialogClientSession] // set once the INVITE is sent
	refers chan *sip.Request                         // REFERs from the phone, answered 202 by the handler
	byes   chan *sip.Request                         // the phone's BYE, answered 200
	acks   chan *sip.Request                         // the phone's ACKs (of our 200s to its re-INVITEs)
	infos  chan *sip.Request                         // the phone's INFOs, answered infoCode (0: 200)
	// infoCode answers the phone's INFOs (0: 200); byeHold delays the answer to its BYE.
	infoCode atomic.Int32
	byeHold  atomic.Int64
	// reinvite answers the phone's re-INVITEs; nil: 501.
	reinvite atomic.Pointer[func(*sip.Request, sip.ServerTransaction)]
	// notify answers the phone's NOTIFYs (of a REFER we sent it); nil: 200.
	notify atomic.Pointer[func(*sip.Request, sip.ServerTransaction)]
}

// dialRaw places a call from a raw caller to addr (its INVITE only, with hdrs: the test
// answers it, and the caller's ACK is the test's to send).
func dialRaw(t *testing.T, addr string, hdrs ...sip.Header) *rawCaller {
	t.Helper()
	rtp, err := net.ListenPacket("udp", "127.0.0.1:0") // where the phone's RTP goes, unread
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rtp.Close() })
	offer, err := sdp.Offer(sdp.Local{Addr: "127.0.0.1", Port: rtp.LocalAddr().(*net.UDPAddr).Port,
		Codecs: supportedCodecs(), DTMF: true})
	if err != nil {
		t.Fatal(err)
	}
	ct := sip.ContentTypeHeader("application/sdp")
	return dialRawWith(t, addr, offer, append([]sip.Header{&ct}, hdrs...)...)
}

// dialRawWith is dialRaw with body as the INVITE's (nil: no offer, a delayed one).
func dialRawWith(t *testing.T, addr string, body []byte, hdrs ...sip.Header) *rawCaller {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ua, srv, client := sipgoPeer(t)
	local := pc.LocalAddr().(*net.UDPAddr)
	dua := &sipgo.DialogUA{Client: client, ContactHDR: sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: "raw", Host: "127.0.0.1", Port: local.Port}}}
	r := &rawCaller{client: client, refers: make(chan *sip.Request, 4), byes: make(chan *sip.Request, 1), acks: make(chan *sip.Request, 4),
		infos: make(chan *sip.Request, 16)}
	srv.OnInfo(func(req *sip.Request, tx sip.ServerTransaction) {
		code := int(r.infoCode.Load())
		if code == 0 {
			code = 200
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, code, "", nil))
		select {
		case r.infos <- req:
		default:
		}
	})
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		if h := r.reinvite.Load(); h != nil {
			(*h)(req, tx)
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 501, "Not Implemented", nil))
	})
	srv.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
		if h := r.notify.Load(); h != nil {
			(*h)(req, tx)
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		select {
		case r.acks <- req:
		default:
		}
	})
	srv.OnRefer(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 202, "Accepted", nil))
		select {
		case r.refers <- req:
		default:
		}
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		time.Sleep(time.Duration(r.byeHold.Load()))
		if s := r.sess.Load(); s == nil || s.ReadBye(req, tx) != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
			return
		}
		select {
		case r.byes <- req:
		default:
		}
	})
	serveUDP(t, ua, srv, pc)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var to sip.Uri
	if err := sip.ParseUri("sip:t@"+addr, &to); err != nil {
		t.Fatal(err)
	}
	sess, err := dua.Invite(ctx, to, body, hdrs...)
	if err != nil {
		t.Fatal(err)
	}
	r.sess.Store(sess)
	t.Cleanup(func() { sess.Close() })
	return r
}

// answeredRaw is a raw caller's call to phone tp (at addr) answered there, the raw caller's
// ACK sent: tp's id of the call, and a context that bounds the rest of the test.
func answeredRaw(t *testing.T, tp *Phone, addr string, events <-chan Event) (*rawCaller, string, context.Context) {
	t.Helper()
	r := dialRaw(t, addr)
	id := answerNext(t, tp, events, CallAudio{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	if err := r.sess.Load().WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatalf("the raw caller's INVITE: %v", err)
	}
	if err := r.ack(); err != nil {
		t.Fatalf("ACK: %v", err)
	}
	return r, id, ctx
}

// ackReinvite sends the ACK of the 200 to the raw caller's re-INVITE req, with body (an
// answer) when there is one.
func (r *rawCaller) ackReinvite(req *sip.Request, body []byte) error {
	s := r.sess.Load()
	ack := sip.NewRequest(sip.ACK, s.InviteResponse.Contact().Address)
	ack.AppendHeader(sip.HeaderClone(s.InviteRequest.From()))
	ack.AppendHeader(sip.HeaderClone(s.InviteResponse.To()))
	ack.AppendHeader(sip.HeaderClone(s.InviteRequest.CallID()))
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: req.CSeq().SeqNo, MethodName: sip.ACK})
	if len(body) > 0 {
		ct := sip.ContentTypeHeader("application/sdp")
		ack.AppendHeader(&ct)
	}
	ack.SetBody(body)
	return r.client.WriteRequest(ack)
}

// ack sends the ACK of the 200 OK, built by hand as RFC 3261 13.2.2.4 says (the INVITE's CSeq
// number): sipgo's DialogClientSession.Ack gives it the dialog's last CSeq, which after a
// REFER or NOTIFY is theirs (see waitConfirmed).
func (r *rawCaller) ack() error { return r.ackWith(nil) }

// ackWith is ack with body (an answer to the offer in the phone's 200) when there is one.
func (r *rawCaller) ackWith(body []byte) error {
	s := r.sess.Load()
	ack := sip.NewRequest(sip.ACK, s.InviteResponse.Contact().Address)
	ack.AppendHeader(sip.HeaderClone(s.InviteRequest.From()))
	ack.AppendHeader(sip.HeaderClone(s.InviteResponse.To()))
	ack.AppendHeader(sip.HeaderClone(s.InviteRequest.CallID()))
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: s.InviteRequest.CSeq().SeqNo, MethodName: sip.ACK})
	if len(body) > 0 {
		ct := sip.ContentTypeHeader("application/sdp")
		ack.AppendHeader(&ct)
	}
	ack.SetBody(body)
	return r.client.WriteRequest(ack)
}

// do sends a request in the raw caller's dialog and checks that the phone answered it code
// and that its CSeq is above the INVITE's (the overtaking this test is about).
func (r *rawCaller) do(t *testing.T, ctx context.Context, req *sip.Request, code int) {
	t.Helper()
	s := r.sess.Load()
	res, err := s.Do(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", req.Method, err)
	}
	if int(res.StatusCode) != code || req.CSeq().SeqNo <= s.InviteRequest.CSeq().SeqNo {
		t.Fatalf("%s with CSeq %d (INVITE %d): %d %s, want %d", req.Method, req.CSeq().SeqNo,
			s.InviteRequest.CSeq().SeqNo, res.StatusCode, res.Reason, code)
	}
}

// TestRequestOvertakesACK: a caller's request in the dialog is taken before its ACK (sipgo
// reads each request in a goroutine of its own, and UDP may reorder them). The ACK must still
// confirm the dialog, so that our hang-up sends a BYE at once. With sipgo's
// Dialog.ReadRequest as our CSeq check, the request's CSeq replaced the number ReadAck
// compares the ACK's with: the ACK (and each retransmission of it) was refused, the answering
// goroutine kept waiting for it in sipgo's WriteResponse, and a hang-up sent no BYE for 32 s
// (TestTransferRefused's flake). Both orders are forced: the raw caller ACKs only once the
// phone has answered its request.
func TestRequestOvertakesACK(t *testing.T) {
	for _, tc := range []struct {
		name string
		// overtake sends the caller's request(s) before its ACK.
		overtake func(t *testing.T, ctx context.Context, tp *Phone, tEv <-chan Event, r *rawCaller, t1 string)
	}{
		{"their REFER", func(t *testing.T, ctx context.Context, tp *Phone, tEv <-chan Event, r *rawCaller, t1 string) {
			// A REFER we refuse (416) after taking its CSeq: nothing else happens on the call.
			refer := sip.NewRequest(sip.REFER, r.sess.Load().InviteResponse.Contact().Address)
			refer.AppendHeader(sip.NewHeader("Refer-To", "<http://example.org/>"))
			r.do(t, ctx, refer, 416)
		}},
		{"the NOTIFY of our REFER", func(t *testing.T, ctx context.Context, tp *Phone, tEv <-chan Event, r *rawCaller, t1 string) {
			// The shape of TestTransferRefused: the transferee's NOTIFY before its ACK. Our
			// REFER waits for the ACK up to ackWait, then goes anyway.
			if err := tp.Transfer(t1, "sip:g@127.0.0.1:9"); err != nil {
				t.Fatal(err)
			}
			select {
			case <-r.refers:
			case <-ctx.Done():
				t.Fatal("the raw caller got no REFER")
			}
			notify := sip.NewRequest(sip.NOTIFY, r.sess.Load().InviteResponse.Contact().Address)
			notify.AppendHeader(sip.NewHeader("Event", "refer"))
			notify.AppendHeader(sip.NewHeader("Subscription-State", "terminated;reason=noresource"))
			ct := sip.ContentTypeHeader("message/sipfrag;version=2.0")
			notify.AppendHeader(&ct)
			notify.SetBody([]byte("SIP/2.0 486 Busy Here\r\n"))
			r.do(t, ctx, notify, 200)
			if fin := waitEvent(t, tEv, "final transfer progress", finalTransfer(t1)).(TransferProgress); fin.Code != 486 {
				t.Fatalf("transfer ended %d %s, want 486", fin.Code, fin.Reason)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp, tAddr, tEv := runPhone(t, Config{})
			r := dialRaw(t, tAddr)
			t1 := answerNext(t, tp, tEv, CallAudio{})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := r.sess.Load().WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
				t.Fatalf("the raw caller's INVITE: %v", err)
			}
			tc.overtake(t, ctx, tp, tEv, r, t1)
			if err := r.ack(); err != nil {
				t.Fatalf("ACK: %v", err)
			}
			// The ACK is read in a goroutine of its own: the hang-up may come first, and then
			// waits for it (RFC 3261 15: no BYE before the ACK), not for sipgo's 32 s give-up.
			if err := tp.Hangup(t1); err != nil {
				t.Fatal(err)
			}
			select {
			case <-r.byes:
			case <-time.After(10 * time.Second):
				t.Fatal("no BYE within 10 s of the hang-up: the ACK that followed the request did not confirm the dialog")
			}
			if end := waitCall(t, tEv, t1, CallEnded); end.By != "local" {
				t.Errorf("call ended by %q, want local", end.By)
			}
		})
	}
}

// TestACKOfOurReinviteKeepsItsCSeq: our REFER while our re-INVITE (hold) waits for its 200.
// sipgo gives an ACK the dialog's last CSeq, so the REFER sent meanwhile gave the re-INVITE's
// ACK the REFER's number: the far end does not take it for the ACK, retransmits its 200 for
// 32 s and then hangs up (RFC 3261 13.3.1.4). Our requests in a dialog now go one at a time:
// the REFER leaves once the re-INVITE is answered and acknowledged.
func TestACKOfOurReinviteKeepsItsCSeq(t *testing.T) {
	tp, tAddr, tEv := runPhone(t, Config{})
	r, t1, ctx := answeredRaw(t, tp, tAddr, tEv)
	rtp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rtp.Close()
	reinvites := make(chan *sip.Request, 1)
	var referFirst atomic.Bool
	h := func(req *sip.Request, tx sip.ServerTransaction) {
		reinvites <- req
		// Give a REFER sent meanwhile the time to arrive before the 200 (it did, at once).
		select {
		case refer := <-r.refers:
			referFirst.Store(true)
			r.refers <- refer
		case <-time.After(time.Second):
		}
		o, err := sdp.ParseOffer(req.Body())
		if err != nil {
			t.Errorf("re-INVITE offer: %v", err)
			return
		}
		answer, _, err := o.Answer(sdp.Local{Addr: "127.0.0.1", Port: rtp.LocalAddr().(*net.UDPAddr).Port, Codecs: supportedCodecs(), DTMF: true})
		if err != nil {
			t.Errorf("answer: %v", err)
			return
		}
		res := sip.NewSDPResponseFromRequest(req, answer)
		res.AppendHeader(&sip.ContactHeader{Address: r.sess.Load().InviteRequest.Contact().Address})
		_ = tx.Respond(res)
	}
	r.reinvite.Store(&h)
	if err := tp.Hold(t1); err != nil {
		t.Fatal(err)
	}
	var reinvite *sip.Request
	select {
	case reinvite = <-reinvites:
	case <-ctx.Done():
		t.Fatal("no re-INVITE for the hold")
	}
	transferred := make(chan error, 1)
	go func() { transferred <- tp.Transfer(t1, "sip:g@127.0.0.1:9") }()
	var ack *sip.Request
	select {
	case ack = <-r.acks:
	case <-ctx.Done():
		t.Fatal("no ACK of the re-INVITE's 200")
	}
	if ack.CSeq().SeqNo != reinvite.CSeq().SeqNo {
		t.Errorf("ACK of the re-INVITE (CSeq %d) has CSeq %d (REFER before the 200: %v)", reinvite.CSeq().SeqNo, ack.CSeq().SeqNo, referFirst.Load())
	}
	select {
	case refer := <-r.refers:
		if refer.CSeq().SeqNo <= reinvite.CSeq().SeqNo {
			t.Errorf("REFER CSeq %d, not above the re-INVITE's %d", refer.CSeq().SeqNo, reinvite.CSeq().SeqNo)
		}
	case <-ctx.Done():
		t.Fatal("the REFER never came")
	}
	if err := <-transferred; err != nil {
		t.Fatalf("Transfer: %v", err)
	}
}

// fakeDialog is a dialog state for waitConfirmed, set by the test.
type fakeDialog struct {
	state  atomic.Int32
	ctx    context.Context
	cancel context.CancelFunc
}

func (f *fakeDialog) LoadState() sip.DialogState { return sip.DialogState(f.state.Load()) }
func (f *fakeDialog) Context() context.Context   { return f.ctx }

// TestWaitConfirmed: a REFER or NOTIFY waits for the ACK of the call's 200, and no longer than
// the dialog, its own context, or ackWait once the 200 is out.
func TestWaitConfirmed(t *testing.T) {
	newFake := func(s sip.DialogState) *fakeDialog {
		f := &fakeDialog{}
		f.state.Store(int32(s))
		f.ctx, f.cancel = context.WithCancel(context.Background())
		t.Cleanup(f.cancel)
		return f
	}
	bg := context.Background()
	if err := waitConfirmed(bg, newFake(sip.DialogStateConfirmed)); err != nil {
		t.Fatalf("confirmed: %v", err)
	}

	f := newFake(sip.DialogStateEstablished)
	done := make(chan error, 1)
	go func() { done <- waitConfirmed(bg, f) }()
	select {
	case err := <-done:
		t.Fatalf("returned %v before the ACK", err)
	case <-time.After(50 * time.Millisecond):
	}
	f.state.Store(int32(sip.DialogStateConfirmed)) // the ACK
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after the ACK: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still waiting 10 s after the ACK")
	}

	f = newFake(sip.DialogStateEstablished)
	f.cancel() // the dialog ended
	if err := waitConfirmed(bg, f); err == nil {
		t.Error("no error for a dialog that ended before its ACK")
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := waitConfirmed(ctx, newFake(sip.DialogStateEstablished)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}

	// No ACK within ackWait: go on without it once our 200 is out, not before (both at once).
	start := time.Now()
	noACK, no200 := make(chan error, 1), make(chan error, 1)
	go func() { noACK <- waitConfirmed(bg, newFake(sip.DialogStateEstablished)) }()
	go func() { no200 <- waitConfirmed(bg, newFake(0)) }()
	if err := <-noACK; err != nil {
		t.Errorf("200 sent, no ACK in ackWait: %v, want nil (go on without it)", err)
	}
	if waited := time.Since(start); waited < ackWait {
		t.Errorf("gave up on the ACK after %v, want %v", waited, ackWait)
	}
	if err := <-no200; err == nil {
		t.Error("no error with no 200 in the dialog after ackWait")
	}
}

// TestFarEndCSeqIsItsOwn: on a call we placed, the far end's requests number their CSeq in a
// space of their own (RFC 3261 12.1.2: our remote sequence number starts empty), here from 0,
// below our INVITE's 1. sipgo's Dialog.ReadRequest compared them with our INVITE's and
// answered 500; the REFER must get its real answer (416 for an http: target).
func TestFarEndCSeqIsItsOwn(t *testing.T) {
	ua, srv, client := sipgoPeer(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "far", Host: "127.0.0.1", Port: pc.LocalAddr().(*net.UDPAddr).Port}}
	dua := &sipgo.DialogUA{Client: client, ContactHDR: contact}
	answered := make(chan *sipgo.DialogServerSession, 1)
	var current atomic.Pointer[sipgo.DialogServerSession] // for the ACK
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		sess, err := dua.ReadInvite(req, tx)
		if err != nil {
			return
		}
		current.Store(sess)
		body, _, err := sdp.Answer(req.Body(), sdp.Local{Addr: "127.0.0.1", Port: 9, Codecs: supportedCodecs(), DTMF: true})
		if err != nil {
			_ = sess.Respond(488, "Not Acceptable Here", nil)
			return
		}
		ct := sip.ContentTypeHeader("application/sdp")
		if sess.Respond(200, "OK", body, &ct) == nil { // returns once our ACK came
			answered <- sess
		}
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		if s := current.Load(); s != nil {
			_ = s.ReadAck(req, tx)
		}
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	serveUDP(t, ua, srv, pc)

	p, _, ev := runPhone(t, Config{})
	id, err := p.Dial("", "sip:far@"+pc.LocalAddr().String(), CallAudio{}, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitCall(t, ev, id, CallAnswered)
	var sess *sipgo.DialogServerSession
	select {
	case sess = <-answered:
	case <-time.After(10 * time.Second):
		t.Fatal("the far end never saw our ACK")
	}
	// A REFER numbered 0, built by hand: sipgo's session would number it after our INVITE.
	inv := sess.InviteRequest
	refer := sip.NewRequest(sip.REFER, inv.Contact().Address)
	from := sess.InviteResponse.To().AsFrom()
	refer.AppendHeader(&from)
	to := inv.From().AsTo()
	refer.AppendHeader(&to)
	refer.AppendHeader(sip.HeaderClone(inv.CallID()))
	refer.AppendHeader(&sip.CSeqHeader{SeqNo: 0, MethodName: sip.REFER})
	refer.AppendHeader(&contact)
	refer.AppendHeader(sip.NewHeader("Refer-To", "<http://example.org/>"))
	refer.SetBody(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := client.Do(ctx, refer)
	if err != nil {
		t.Fatalf("REFER: %v", err)
	}
	if res.StatusCode != 416 || inv.CSeq().SeqNo == 0 {
		t.Fatalf("REFER with CSeq 0 after our INVITE's %d: %d %s, want 416", inv.CSeq().SeqNo, res.StatusCode, res.Reason)
	}
	if err := p.Hangup(id); err != nil {
		t.Fatal(err)
	}
	waitCall(t, ev, id, CallEnded)
}

// sipgoPeer is a bare sipgo user agent with a server and a client on 127.0.0.1: a far end
// built on sipgo's own API, doing exactly what a test tells it to.
func sipgoPeer(t *testing.T) (*sipgo.UserAgent, *sipgo.Server, *sipgo.Client) {
	t.Helper()
	ua, srv := sipgoServer(t)
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	return ua, srv, client
}
