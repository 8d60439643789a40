package phone

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"time"

	lifecycle "github.com/dialtone/dialtone/phone/call"
	"github.com/dialtone/dialtone/phone/media"
	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo/sip"
)

// A delayed offer: an INVITE without SDP, as Cisco CUCM trunks, some carriers' SBCs and
// third-party call control send them (RFC 3261 13.2.1, RFC 3725). Our 200 then carries the
// offer, made as for a call we place, and the caller's ACK the answer. The call is answered
// on the wire with the 200; its media starts, and "answered" is published, with the ACK's
// answer (the machine's OfferInOK). An ACK without a usable answer ends the call with a BYE.
// Before, such INVITEs were refused 488, and those callers could not reach us at all.

// firstAck keeps the SDP of the first ACK of our 200 (sipgo reuses the request's buffer).
// It is written before sipgo's ReadAck runs, and read once WriteResponse returned on that ACK.
type firstAck struct {
	cseq uint32 // the INVITE's: an ACK of another number is not this 200's
	once sync.Once
	body []byte
	got  chan struct{} // closed once body is kept
}

func newFirstAck(cseq uint32) *firstAck { return &firstAck{cseq: cseq, got: make(chan struct{})} }

// keep returns read, which first keeps the ACK's SDP, once.
func (f *firstAck) keep(read dialogRead) dialogRead {
	return func(req *sip.Request, tx sip.ServerTransaction) error {
		if cs := req.CSeq(); cs != nil && cs.SeqNo == f.cseq {
			f.once.Do(func() {
				f.body = bytes.Clone(sdpOf(req))
				close(f.got)
			})
		}
		return read(req, tx)
	}
}

// after returns read (the BYE's), which first waits for the ACK, T1 at most: sipgo reads the
// ACK and a BYE sent right after it on goroutines of their own, and a BYE read first ended
// the call before its answer was known, so a call that was answered went to the history as
// missed. A caller's BYE comes after its ACK; one that never sent it waits T1 for its 200.
func (f *firstAck) after(read dialogRead) dialogRead {
	return func(req *sip.Request, tx sip.ServerTransaction) error {
		t := time.NewTimer(sip.T1)
		select {
		case <-f.got:
		case <-t.C:
		}
		t.Stop()
		return read(req, tx)
	}
}

// prepareOffer makes our offer for the 200 (local, at ma, with media session ms) when the
// INVITE had none. The call counts as answered (DTMF, mute, transfer) only with the answer.
func (x *incomingRun) prepareOffer(ms *media.Session, ma mediaAddr, local sdp.Local) error {
	offer, err := sdp.Offer(local)
	if err != nil {
		return err
	}
	c := x.c
	c.mu.Lock()
	c.addr, c.media, c.local, c.contact, c.offered = ma, ms, local, x.l.contact, true
	// The user answered: a hang-up before the ACK's answer ends an answered call (the history's
	// "answered", not "rejected"). The answer, when it comes, says when the media started.
	c.status.Answered = x.p.clock.Now()
	c.mu.Unlock()
	x.okSDP, x.local = offer, local
	return nil
}

// acked is the input our 200's ACK makes: nothing more when the 200 answered their offer,
// else the answer to ours that the ACK carries.
func (x *incomingRun) acked() lifecycle.Input {
	if x.offer != nil {
		return nil
	}
	// A BYE may have come right after the ACK, or even before it: the answer the ACK brought
	// still makes the call answered (it was, for a moment), as for an offer in the INVITE.
	gone := x.sess.Context().Err() != nil
	c := x.c
	c.mu.Lock()
	a := CallAudio{Source: c.source, Sink: c.sink}
	c.mu.Unlock()
	var body []byte
	if x.ack != nil {
		body = x.ack.body
	}
	if len(body) == 0 {
		if gone {
			return lifecycle.RemoteBye{} // their BYE, and no ACK: no session was ever agreed
		}
		x.err = errors.New("the ACK carries no answer to the offer in our 200")
		x.p.log.Warn("incoming call: no answer in the ACK; the call ends", "call", c.id)
		return lifecycle.AckAnswer{}
	}
	n, params, err := acceptAnswer(x.local, body, a)
	if err != nil && gone {
		return lifecycle.RemoteBye{} // over already: no BYE of ours for an unusable answer
	}
	if err != nil {
		x.err = fmt.Errorf("the answer in the ACK: %w", err)
		x.p.log.Warn("incoming call: unusable answer in the ACK; the call ends", "call", c.id, "err", err)
		why, insecure := insecureRefusal(err)
		return lifecycle.AckAnswer{Insecure: insecure, Why: why}
	}
	local := x.local // our re-INVITEs repeat what this answer settled
	local.Encryption, local.KeysRequired = sessionEncryption(n, x.policy.enc == sdp.EncryptionSDESRequired)
	c.mu.Lock()
	c.local, c.answered = local, true
	c.remoteSDP, c.params = params.Remote, params
	c.mu.Unlock()
	x.params, x.negotiated = params, n
	return lifecycle.AckAnswer{OK: true, RemoteHold: n.Hold}
}
