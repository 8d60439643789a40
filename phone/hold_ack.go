package phone

import (
	lifecycle "github.com/dialtone/dialtone/phone/call"
	"github.com/dialtone/dialtone/phone/sdp"
)

// A re-INVITE without SDP (a session refresh, or a delayed offer: Cisco and some carriers send
// them) gets our offer in the 200, and the far end's answer comes in its ACK (RFC 3261 14.2).
// The answer may move the media (another address or port, a re-anchored stream): it is applied
// as a re-INVITE's answer would be. Before, the ACK's body was dropped and audio went on to the
// old address.

// ackAnswer is the answer in the ACK, with the offer it answers.
type ackAnswer struct {
	local sdp.Local
	body  []byte
}

// ackAnswer reads the answer in the ACK of our offer (noteAck, reinvite_ok.go), in the talk
// loop, into the media parameters the machine's UpdateMedia applies; the input says whether
// the far end now holds us (an offerless hold answered sendonly or inactive, as Cisco CUCM
// does it).
func (h *holdRun) ackAnswer(ans ackAnswer) lifecycle.Input {
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
