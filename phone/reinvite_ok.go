package phone

import (
	"bytes"
	"time"

	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo/sip"
)

// Our 200 to the far end's re-INVITE is retransmitted until its ACK comes (RFC 3261 13.3.1.4;
// RFC 6026 makes that the TU's job, and sipgo's server transaction absorbs the re-INVITE's own
// retransmissions meanwhile). Sent once, a 200 lost on UDP never reached the far end, whose
// re-INVITE then timed out (Timer B, 32 s) — after which many far ends hang up — and the
// answer to our offer in a 200 (hold_ack.go) never came back in an ACK. When no ACK comes in
// 64·T1 the call ends with a BYE, as 13.3.1.4 says it SHOULD: the far end never learnt that
// its re-INVITE was answered, or cannot answer our offer, and the session is not what both
// sides think it is.

// okAckWait is how long our 200 to a re-INVITE waits for its ACK (64·T1). A variable for tests.
var okAckWait = 64 * sip.T1

// okAwaitingAck is our 200 to a re-INVITE of CSeq cseq until its ACK closes acked. offer is
// the offer that 200 carried when the re-INVITE had none (hold_ack.go), whose answer the ACK
// brings; nil when the 200 carried our answer.
type okAwaitingAck struct {
	cseq  uint32
	offer *sdp.Local
	acked chan struct{}
}

// awaitOKAck files our 200 to req, a re-INVITE, as waiting for its ACK, before the 200 is sent
// (the ACK may come before the sender's next line runs). A 200 still waiting is given up: a
// newer re-INVITE was answered, so the older one's ACK will not be awaited any more.
func (c *call) awaitOKAck(req *sip.Request, offer *sdp.Local) *okAwaitingAck {
	w := &okAwaitingAck{cseq: req.CSeq().SeqNo, offer: offer, acked: make(chan struct{})}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.okWait != nil {
		close(c.okWait.acked)
	}
	c.okWait = w
	return w
}

// dropOKAck stops waiting with w, unless its ACK came or a newer 200 took its place: it
// reports whether w was still awaited.
func (c *call) dropOKAck(w *okAwaitingAck) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.okWait != w {
		return false
	}
	c.okWait = nil
	return true
}

// connectionOf is the connection tx's request came on, or nil (sipgo's server transactions
// have one; the interface does not say so).
func connectionOf(tx sip.ServerTransaction) sip.Connection {
	if t, ok := tx.(interface{ Connection() sip.Connection }); ok {
		return t.Connection()
	}
	return nil
}

// noAckComing gives up w, our 200 that could not be sent: when it carried our offer, the talk
// loop learns the offer will not be answered, as from an ACK without an answer (the machine
// then makes offers again and takes the far end's).
func (c *call) noAckComing(w *okAwaitingAck) {
	if !c.dropOKAck(w) || w.offer == nil {
		return
	}
	select {
	case c.ackAnswers <- ackAnswer{local: *w.offer}:
	default: // holds an answer already: never expected, one offer is outstanding at a time
	}
}

// noteAck takes req, an ACK: the 200 it acknowledges is no longer retransmitted, and when that
// 200 carried our offer, the ACK's answer goes to the call's talk loop. An ACK without one is
// handed on too: the offer is then unanswered, and the call free to make another (RFC 3264
// §4). Retransmitted ACKs find nothing left to do.
func (c *call) noteAck(req *sip.Request) {
	if req.CSeq() == nil {
		return
	}
	c.mu.Lock()
	w := c.okWait
	if w == nil || w.cseq != req.CSeq().SeqNo {
		c.mu.Unlock()
		return
	}
	close(w.acked)
	c.okWait = nil
	c.mu.Unlock()
	if w.offer != nil {
		select {
		case c.ackAnswers <- ackAnswer{local: *w.offer, body: bytes.Clone(sdpOf(req))}: // sipgo reuses the buffer
		default:
		}
	}
}

// retransmitOK resends res, our 200 that w waits with, T1 after it was sent, then at doubling
// intervals up to T2, until its ACK comes, the call's hold run ends or it cannot be sent any
// more. After okAckWait without the ACK it tells the talk loop (noAck), which ends the call.
func (h *holdRun) retransmitOK(w *okAwaitingAck, tx sip.ServerTransaction, res *sip.Response) {
	c := h.c
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		giveUp := time.NewTimer(okAckWait)
		defer giveUp.Stop()
		every := sip.T1
		next := time.NewTimer(every)
		defer next.Stop()
		resend := next.C
		send := func() error { return tx.Respond(res) }
		for {
			select {
			case <-w.acked:
				return
			case <-h.ctx.Done():
				return
			case <-giveUp.C:
				if !c.dropOKAck(w) { // acknowledged or replaced meanwhile
					return
				}
				h.p.log.Warn("no ACK for our 200 to the far end's re-INVITE: the call ends", "call", c.id, "cseq", w.cseq)
				select {
				case h.noAck <- struct{}{}:
				case <-h.ctx.Done():
				}
				return
			case <-resend:
				if err := send(); err != nil {
					// The transaction has ended: over TCP and TLS sipgo ends it once the
					// re-INVITE is answered. The 200 goes on its connection instead, as RFC
					// 3261 13.3.1.4 wants on a reliable transport too (a hop past a proxy
					// may be UDP); failing that, it goes no more, but its ACK is still
					// awaited, and its absence still ends the call.
					conn := connectionOf(tx)
					if conn == nil || conn.WriteMsg(res) != nil {
						resend = nil
						continue
					}
					send = func() error { return conn.WriteMsg(res) }
				}
				every = min(2*every, sip.T2)
				next.Reset(every)
			}
		}
	}()
}
