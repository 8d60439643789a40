package phone

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

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
	once sync.Once
	body []byte
}

// keep returns read, which first keeps the ACK's SDP, once.
func (f *firstAck) keep(read dialogRead) dialogRead {
	return func(req *sip.Request, tx sip.ServerTransaction) error {
		f.once.Do(func() { f.body = bytes.Clone(sdpOf(req)) })
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
	c.addr, c.media, c.local, c.contact = ma, ms, local, x.l.contact
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
	if x.sess.Context().Err() != nil {
		return lifecycle.RemoteBye{} // their BYE overtook the ACK: no answer to wait for
	}
	c := x.c
	c.mu.Lock()
	a := CallAudio{Source: c.source, Sink: c.sink}
	c.mu.Unlock()
	var body []byte
	if x.ack != nil {
		body = x.ack.body
	}
	if len(body) == 0 {
		x.err = errors.New("the ACK carries no answer to the offer in our 200")
		x.p.log.Warn("incoming call: no answer in the ACK; the call ends", "call", c.id)
		return lifecycle.AckAnswer{}
	}
	n, params, err := acceptAnswer(x.local, body, a)
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
