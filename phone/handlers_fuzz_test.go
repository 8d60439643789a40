package phone

import (
	"bytes"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// FuzzIncomingRequest parses arbitrary bytes as sipgo does a datagram on the SIP port (the
// phone's own parser, transferParser; then the transaction key that sipgo's transaction
// layer needs, else it answers 400 itself) and hands a request to the very handler sipgo's
// server holds for its method (serverHandlers), with a real sipgo server transaction whose
// responses are recorded instead of sent: INVITE (new calls, re-INVITEs, Replaces), ACK,
// BYE, UPDATE, INFO, REFER, NOTIFY, MESSAGE, OPTIONS, in a dialog and out of one. The phone
// is real (b of fuzzRig, on loopback), and so is its far end a, whose answered call is the
// live dialog the seeds name, through placeholders the harness fills in before parsing:
//
//	@CALLID@  the call's Call-ID          @BTAG@ b's tag (To of a request from a)
//	@ATAG@    a's tag (From)              @CSEQ@ a CSeq above every one before it
//	@A@       a's SIP address (host:port) @B@    b's SIP address
//	@ARTP@    a's RTP port (where an offer may keep b's media)
//
// Invariants: no panic; every handler settles (a final response, or a 180 for a new call)
// within 5 s and returns within 10 s of the test hanging up what it started; every response
// is 100-699; a request other than ACK gets exactly one final response. A request whose
// effects would leave loopback is not delivered (safeToDeliver). State carries over between
// inputs (a hold, a transfer's outcome), bounded: the fuzz's calls are hung up after each
// input, and a call a BYE ended is made again.
//
// The seed corpus is testdata/fuzz/FuzzIncomingRequest, one file per case, named for what it
// is.
func FuzzIncomingRequest(f *testing.F) {
	f.Add([]byte("OPTIONS sip:b@@B@ SIP/2.0\r\nVia: SIP/2.0/UDP @A@;branch=z9hG4bK.o1\r\nFrom: <sip:a@@A@>;tag=x\r\nTo: <sip:b@@B@>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("INFO sip:b@@B@ SIP/2.0\r\nVia: SIP/2.0/UDP @A@;branch=z9hG4bK.i1\r\nFrom: <sip:a@@A@>;tag=@ATAG@\r\nTo: <sip:b@@B@>;tag=@BTAG@\r\nCall-ID: @CALLID@\r\nCSeq: @CSEQ@ INFO\r\nContent-Type: application/dtmf-relay\r\nContent-Length: 24\r\n\r\nSignal=5\r\nDuration=160\r\n"))
	r := newFuzzRig(f)
	f.Cleanup(func() {
		f.Logf("%d requests delivered to the handlers; the call from a made %d times", r.delivered, r.establishments)
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		if !r.alive() {
			r.establish(t)
		}
		r.subscribe()
		r.deliver(t, data)
	})
}

// subscribe gives b's call a pending transfer, as if b had sent a REFER that a accepted, so
// that a NOTIFY of the dialog reaches the sipfrag and the transfer's outcome (onNotify).
func (r *fuzzRig) subscribe() {
	x := &r.b.xfer
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.subs == nil {
		x.subs = map[string]*referSub{}
	}
	if x.subs[r.bID] == nil {
		x.subs[r.bID] = &referSub{}
	}
}

// ackFinal sends the ACK of the INVITE's final response, if there is one yet, as a caller
// would: for a failure, into the INVITE's own transaction (RFC 3261 17.1.1.3; sipgo's
// transaction layer does the same with a matching ACK); for a 2xx, as a new request to the
// ACK handler (13.2.2.4). It reports whether it sent one.
func (r *fuzzRig) ackFinal(invite *sip.Request, stx *sip.ServerTx, tx *recordingTx) bool {
	final := tx.final()
	if final == nil {
		return false
	}
	ack := invite.Clone()
	ack.Method = sip.ACK
	ack.SetBody(nil)
	ack.RemoveHeader("Content-Type")
	if to := final.To(); to != nil {
		cp := *to
		cp.Params = to.Params.Clone()
		ack.ReplaceHeader(&cp)
	}
	if cseq := ack.CSeq(); cseq != nil {
		cseq.MethodName = sip.ACK
	}
	if !final.IsSuccess() {
		_ = stx.Receive(ack)
		return true
	}
	ack.RemoveHeader("Via")
	ack.PrependHeader(sip.NewHeader("Via", "SIP/2.0/UDP "+r.aAddr.String()+";branch=z9hG4bK.ack"+sip.GenerateTagN(8)))
	// Parsed again, as sipgo would deliver it: the Via just made must be a real Via header.
	msg, err := r.parser.ParseSIP([]byte(ack.String()))
	if err != nil {
		return true // an INVITE sipgo took, but whose ACK it would not parse: no ACK comes
	}
	ack = msg.(*sip.Request)
	ack.SetTransport("UDP")
	ack.SetSource(r.aAddr.String())
	ack.SetDestination(r.bAddr.String())
	key, err := sip.ServerTxKeyMake(ack)
	if err != nil {
		return true
	}
	atx := sip.NewServerTx(key, ack, &recordingConn{}, r.log)
	if err := atx.Init(); err != nil {
		return true
	}
	r.handlers[sip.ACK](ack, atx)
	atx.Terminate()
	return true
}

// deliver is one fuzz input: placeholders filled, parsed, checked and handed to b's handler.
func (r *fuzzRig) deliver(t *testing.T, data []byte) {
	if bytes.Contains(data, []byte("@CSEQ@")) {
		r.cseq++
		data = bytes.ReplaceAll(data, []byte("@CSEQ@"), strconvU(r.cseq))
	}
	for _, kv := range [][2]string{
		{"@CALLID@", r.callID}, {"@BTAG@", r.bTag}, {"@ATAG@", r.aTag},
		{"@A@", r.aAddr.String()}, {"@B@", r.bAddr.String()}, {"@ARTP@", string(strconvU(uint32(r.aRTP)))},
	} {
		data = bytes.ReplaceAll(data, []byte(kv[0]), []byte(kv[1]))
	}
	msg, err := r.parser.ParseSIP(data)
	if err != nil {
		return // sipgo drops it
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		return // a response: FuzzOutgoingResponse
	}
	// What sipgo's UDP transport sets on every message it reads.
	req.SetTransport("UDP")
	req.SetSource(r.aAddr.String())
	req.SetDestination(r.bAddr.String())
	key, err := sip.ServerTxKeyMake(req)
	if err != nil {
		return // sipgo's transaction layer answers 400 without us
	}
	h, ok := r.handlers[req.Method]
	if !ok {
		return // sipgo answers 405 without us (CANCEL too: no INVITE transaction is pending)
	}
	if !r.safeToDeliver(req) {
		return
	}
	r.delivered++
	stx := sip.NewServerTx(key, req, &recordingConn{}, r.log)
	if err := stx.Init(); err != nil {
		t.Fatal(err)
	}
	tx := &recordingTx{ServerTx: stx}
	done := make(chan struct{})
	var panicked atomic.Value
	go func() {
		defer close(done)
		// sipgo does not recover a handler's panic: it ends the process. Caught here only to
		// report it with the input, as a panic of the fuzz function itself would be.
		defer func() {
			if v := recover(); v != nil {
				panicked.Store(fmt.Sprintf("%v\n%s", v, debug.Stack()))
			}
		}()
		h(req, tx)
	}()
	returned := func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
	if !waitFor(5*time.Second, func() bool { return returned() || tx.settled() }) && panicked.Load() == nil {
		stx.Terminate()
		t.Fatalf("%s: no final response and no ringing within 5 s: %+v", req.Method, tx.recorded())
	}
	// A new call rings, a transfer calls someone: hang up what the request started, and ACK
	// a final response as the caller would; then the handler must return. The transaction
	// ends as sipgo ends it when the handler returns.
	acked := false
	tidy := func() bool {
		hangUpAllBut(r.b, r.bID)
		hangUpAllBut(r.a, r.aID)
		if !acked && req.Method == sip.INVITE {
			acked = r.ackFinal(req, stx, tx)
		}
		return returned()
	}
	if !waitFor(time.Second, tidy) {
		stx.Terminate() // a 200 whose ACK did not match, as sipgo's Timer H would end it
	}
	if !waitFor(10*time.Second, tidy) {
		t.Fatalf("%s: the handler did not return within 10 s of its call's hang-up", req.Method)
	}
	stx.Terminate()
	if v := panicked.Load(); v != nil {
		t.Fatalf("%s handler panicked: %s", req.Method, v)
	}
	if err := tx.check(req); err != nil {
		t.Fatal(err)
	}
}
