package phone

import (
	"bytes"

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

// takeAckAnswer hands the SDP answer in req, an ACK, to the call's talk loop when it
// acknowledges the 200 that carried our offer.
func (c *call) takeAckAnswer(req *sip.Request) {
	if len(req.Body()) == 0 || req.CSeq() == nil {
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

// ackAnswer applies the answer in the ACK of our offer (takeAckAnswer), in the talk loop.
func (h *holdRun) ackAnswer(ans ackAnswer) {
	c := h.c
	c.mu.Lock()
	a := CallAudio{Source: c.source, Sink: c.sink}
	silent := c.machine.Hold.Local // on hold we send no RTP and play nothing
	c.mu.Unlock()
	n, err := sdp.Accept(ans.local, ans.body)
	if err == nil {
		h.params, err = mediaParams(n, a)
	}
	if err != nil {
		h.p.log.Warn("the answer in the ACK is unusable; the media stays as it was", "call", c.id, "err", err)
		return
	}
	params := h.params
	if silent {
		params.Send, params.Receive = false, false
	}
	h.ms.Update(params)
	c.mu.Lock()
	c.remoteSDP, c.params = params.Remote, h.params
	c.mu.Unlock()
	h.p.log.Info("answer in the ACK applied", "call", c.id, "remote", params.Remote.String())
}
