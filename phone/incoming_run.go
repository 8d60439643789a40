package phone

import (
	"context"
	"errors"
	"fmt"

	lifecycle "github.com/dialtone/dialtone/phone/call"
	"github.com/dialtone/dialtone/phone/media"
	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// incomingRun carries out the state machine's effects for an incoming call until it is
// answered or over.
type incomingRun struct {
	p          *Phone
	c          *call
	stk        *stack
	sess       *sipgo.DialogServerSession
	l          *leg
	acc        *account
	contact    *sip.ContactHeader
	ms         *media.Session
	okSDP      []byte           // our 200's SDP, once prepared: the answer, or our offer (no offer came)
	params     media.Params     // the media it describes
	negotiated sdp.Negotiated   // what the answer settled, for the answered event
	offer      *sdp.ParsedOffer // the INVITE's SDP offer, checked before the call rang; nil: none came
	// local is our offer in the 200 when the INVITE had none, and ack the ACK that answers it
	// (incoming_delayed.go).
	local  sdp.Local
	ack    *firstAck
	policy mediaPolicy      // codecs, SRTP policy and keys the offer was checked against
	err    error            // the error behind an End, for the event and the history
	opened chan openedMedia // the media session opened while ringing, until prepare takes it
	otx    *afterOK         // the INVITE's transaction: runs the answer's effects once the 200 is out
	// incomingDue: the "incoming" event is still to publish, before any other (autoanswer.go).
	incomingDue bool
	// okWrite delivers WriteResponse's end when respondOK stopped waiting for the ACK.
	okWrite chan error
}

// carryOut carries out effects; one that learns something returns the next input.
func (x *incomingRun) carryOut(effects []lifecycle.Effect) lifecycle.Input {
	var next lifecycle.Input
	for _, e := range effects {
		switch e := e.(type) {
		case lifecycle.PrepareAnswer:
			x.err = x.prepare()
			next = lifecycle.AnswerReady{OK: x.err == nil, OfferInOK: x.offer == nil}
		case lifecycle.StartMedia:
			x.ms.Start(x.params)
		case lifecycle.Respond:
			if e.Code == 200 {
				next = x.respondOK()
				continue
			}
			if err := x.sess.Respond(e.Code, e.Reason, nil, x.contact); err != nil {
				x.p.log.Debug("respond to INVITE", "call", x.c.id, "code", e.Code, "err", err)
			}
		case lifecycle.Publish:
			x.publishIncoming()
			now := x.p.clock.Now()
			x.p.publishState(x.c, e.State, func(s *CallStatus) {
				if e.State == lifecycle.Answered {
					setAnswered(s, x.negotiated)
					s.Answered, s.Code, s.Reason = now, 200, "OK"
				}
			})
		case lifecycle.HoldChanged:
			x.p.publishHold(x.c, e)
		case lifecycle.SendBye:
			x.p.sendBye(x.c, x.sess, byeTimeout) // bounded: a far end that went away must not hold the call
		case lifecycle.End:
			x.publishIncoming()
			x.p.endAs(x.c, e.Outcome, x.err)
		}
	}
	return next
}

// prepare opens the media, finds our public address and negotiates the SDP answer.
func (x *incomingRun) prepare() error {
	var r openedMedia
	if x.opened != nil {
		r = <-x.opened
		x.opened = nil
	} else {
		r.ms, r.err = media.Open(x.p.mediaConfig(x.l.localIP))
	}
	if r.err != nil {
		return fmt.Errorf("no RTP port: %w", r.err)
	}
	ms := r.ms
	x.ms = ms
	// STUN and TURN can take seconds against a dead server: a caller's CANCEL (which ends the
	// dialog's context) or the phone's stop ends that wait, not the last retransmission.
	ctx, cancel := context.WithCancel(x.sess.Context())
	defer cancel()
	defer context.AfterFunc(x.stk.ctx, cancel)()
	ma := x.p.publicMedia(ctx, x.stk, x.acc, x.l.localIP, ms)
	local := x.p.localSDP(ma, x.policy)
	if x.offer == nil {
		return x.prepareOffer(ms, ma, local)
	}
	answer, n, err := x.offer.Answer(local)
	if err != nil {
		return err
	}
	// Our re-INVITEs repeat what this answer settled.
	local.Encryption, local.KeysRequired = sessionEncryption(n, x.policy.enc == sdp.EncryptionSDESRequired)
	c := x.c
	c.mu.Lock()
	a := CallAudio{Source: c.source, Sink: c.sink}
	c.mu.Unlock()
	params, err := mediaParams(n, a)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.addr, c.media, c.local, c.contact, c.answered = ma, ms, local, x.l.contact, true
	c.remoteSDP, c.params = params.Remote, params
	c.mu.Unlock()
	x.okSDP, x.params, x.negotiated = answer, params, n
	return nil
}

// respondOK sends our 200 with the SDP answer (or offer) and waits for the ACK (sipgo
// retransmits the 200 meanwhile, RFC 3261 13.3.1.4).
func (x *incomingRun) respondOK() lifecycle.Input {
	res := sip.NewSDPResponseFromRequest(x.sess.InviteRequest, x.okSDP)
	res.AppendHeader(x.contact)
	res.AppendHeader(sip.NewHeader("User-Agent", x.p.userAgent()))
	res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	res.AppendHeader(sip.NewHeader("Supported", supportedExtensions))
	// WriteResponse returns on the ACK, or after retransmitting the 200 for 32 s (64*T1)
	// without one. A hang-up or the phone's end meanwhile must not wait that long: the call
	// ends now, by us, and its BYE goes out when the ACK comes (sipgo's WriteBye waits for it,
	// RFC 3261 15), or not at all once byeTimeout passes (the INVITE transaction then ends,
	// and so does WriteResponse; close waits for it).
	done := make(chan error, 1)
	// The 200 leaves from this goroutine; WriteResponse takes it over (afterOK.writeFirst).
	// Failed, WriteResponse writes it itself, or reports why it cannot.
	_ = x.otx.writeFirst(res)
	go func() {
		err := x.sess.WriteResponse(res)
		x.otx.markSent() // it returned without taking the 2xx (the transaction had ended)
		done <- err
	}()
	var err error
	select { // the 200 is written first: a BYE is built on it (a hang-up before it crashed sipgo's WriteBye)
	case err = <-done:
	case <-x.otx.sent:
		select {
		case err = <-done:
		case <-x.c.hangupCh:
			x.okWrite = done
			return lifecycle.Hangup{}
		case <-x.stk.ctx.Done():
			x.okWrite = done
			return lifecycle.Shutdown{}
		}
	}
	switch {
	case err == nil:
		return x.acked()
	case x.sess.LoadState() == sip.DialogStateEnded,
		// The ACK came after the BYE that overtook it: sipgo's ReadAck then marks the
		// ended dialog confirmed again, and only the cancelled context tells.
		x.sess.LoadState() == sip.DialogStateConfirmed && x.sess.Context().Err() != nil:
		// The caller's BYE overtook its ACK (sipgo reads them in separate goroutines; a
		// caller that hangs up at once, as sipp under load does): the call was answered and
		// talk sees the BYE at once. Reporting it as cancelled put a 487 in the history.
		// Checked first: the BYE terminates the INVITE transaction, so err is then
		// ErrTransactionCanceled too, while a CANCEL never marks the dialog ended.
		return x.acked()
	case errors.Is(err, sip.ErrTransactionCanceled) || errors.Is(context.Cause(x.sess.Context()), sip.ErrTransactionCanceled):
		return lifecycle.AnswerTooLate{} // CANCEL beat our 200
	case x.sess.Context().Err() != nil:
		return lifecycle.AnswerTooLate{}
	}
	x.p.log.Warn("no ACK for our 200 OK", "call", x.c.id, "err", err)
	x.err = err
	return lifecycle.AckTimeout{}
}

func (x *incomingRun) close() {
	if x.okWrite != nil { // our 200's retransmissions, abandoned by a hang-up: they end with the dialog
		<-x.okWrite
	}
	if x.opened != nil { // never answered: the early media session was not used
		if r := <-x.opened; r.ms != nil {
			r.ms.Close()
		}
	}
	if x.ms != nil {
		x.ms.Close()
	}
}

// openedMedia is the result of media.Open run early.
type openedMedia struct {
	ms  *media.Session
	err error
}

// openMediaEarly binds the RTP sockets and sizes the jitter buffer while the call rings, so
// the answer does not wait for it: it was the largest part of INVITE → 200 OK (about 300 µs
// of 1.1 ms on loopback, BenchmarkAnswerTurnaround). prepare or close takes the result, so
// the goroutine never outlives the call.
func (x *incomingRun) openMediaEarly() {
	ch := make(chan openedMedia, 1)
	x.opened = ch
	cfg := x.p.mediaConfig(x.l.localIP)
	if x.p.cfg.AutoAnswer {
		if ms := x.stk.spare.take(x.l.localIP); ms != nil {
			ch <- openedMedia{ms: ms}
			return
		}
	}
	go func() {
		ms, err := media.Open(cfg)
		ch <- openedMedia{ms, err}
	}()
}
