package phone

import (
	"bytes"
	"time"

	lifecycle "github.com/dialtone/dialtone/phone/call"
	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo/sip"
)

// A re-INVITE without SDP (a session refresh, or a delayed offer: Cisco and some carriers send
// them) gets our offer in the 200, and the far end's answer comes in its ACK (RFC 3261 14.2).
// The answer may move the media (another address or port, a re-anchored stream): it is applied
// as a re-INVITE's answer would be. Before, the ACK's body was dropped and audio went on to the
// old address.

// ackOffer is our offer in the 200 to the far end's re-INVITE without SDP, until its ACK.
type ackOffer struct {
	cseq  uint32    // the re-INVITE's: its ACK carries it
	local sdp.Local // what the offer said, to read the answer against
}

// ackAnswer is the answer in the ACK, with the offer it answers.
type ackAnswer struct {
	local sdp.Local
	body  []byte
}

// ackWaitMax is how long the answer to our offer in a 200 is awaited: the 200's
// retransmissions end then (64*T1, RFC 3261 13.3.1.4, reinvite_ok.go), and so does any hope of
// an ACK. A variable for tests.
var ackWaitMax = 64 * sip.T1

// takeAckAnswer hands the SDP answer in req, an ACK, to the call's talk loop when it
// acknowledges the 200 that carried our offer. An ACK without one is handed on too: the
// offer is then unanswered, and the call free to make another (RFC 3264 §4).
func (c *call) takeAckAnswer(req *sip.Request) {
	if req.CSeq() == nil {
		return
	}
	c.mu.Lock()
	pending := c.ackOffer
	if pending == nil || pending.cseq != req.CSeq().SeqNo {
		c.mu.Unlock()
		return
	}
	c.ackOffer = nil // retransmitted ACKs carry it again: once is enough
	c.mu.Unlock()
	select {
	case c.ackAnswers <- ackAnswer{local: pending.local, body: bytes.Clone(req.Body())}: // sipgo reuses the buffer
	default:
	}
}

// ackAnswer reads the answer in the ACK of our offer (takeAckAnswer), in the talk loop, into
// the media parameters the machine's UpdateMedia applies; the input says whether the far end
// now holds us (an offerless hold answered sendonly or inactive, as Cisco CUCM does it).
func (h *holdRun) ackAnswer(ans ackAnswer) lifecycle.Input {
	h.stopAckWait()
	c := h.c
	c.mu.Lock()
	a := CallAudio{Source: c.source, Sink: c.sink}
	c.mu.Unlock()
	n, params, err := acceptAnswer(ans.local, ans.body, a)
	if err != nil {
		h.p.log.Warn("the answer in the ACK is unusable; the media stays as it was", "call", c.id, "err", err)
		return lifecycle.AckAnswer{}
	}
	h.params = params
	h.p.log.Info("answer in the ACK taken", "call", c.id, "remote", params.Remote.String(), "holds_us", n.Hold)
	return lifecycle.AckAnswer{OK: true, RemoteHold: n.Hold}
}

// awaitAck starts waiting for the ACK that brings the answer to our offer in a 200.
func (h *holdRun) awaitAck() {
	h.stopAckWait()
	h.ackTimer = time.NewTimer(ackWaitMax)
	h.ackWait = h.ackTimer.C
}

func (h *holdRun) stopAckWait() {
	if h.ackTimer != nil {
		h.ackTimer.Stop()
	}
	h.ackTimer, h.ackWait = nil, nil
}

// ackMissing is the answer that never came: the offer is forgotten, so that a late ACK is
// not taken for an answer to whatever we offer next, and the session stays as it was.
func (h *holdRun) ackMissing() lifecycle.Input {
	h.stopAckWait()
	c := h.c
	c.mu.Lock()
	c.ackOffer = nil
	c.mu.Unlock()
	h.p.log.Warn("no ACK with an answer to our offer in the 200; the media stays as it was", "call", c.id)
	return lifecycle.AckAnswer{}
}
