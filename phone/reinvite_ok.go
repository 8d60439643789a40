package phone

import (
	"time"

	"github.com/emiago/sipgo/sip"
)

// Our 200 to the far end's re-INVITE is retransmitted until its ACK comes (RFC 3261 13.3.1.4;
// RFC 6026 makes that the TU's job, and sipgo's server transaction absorbs the re-INVITE's own
// retransmissions meanwhile). Sent once, a 200 lost on UDP never reached the far end, whose
// re-INVITE then timed out (Timer B, 32 s) — after which many far ends hang up — and the
// answer to our offer in a 200 (hold_ack.go) never came back in an ACK.

// okAwaitingAck is our 200 to a re-INVITE of CSeq cseq until its ACK closes acked.
type okAwaitingAck struct {
	cseq  uint32
	acked chan struct{}
}

// awaitOKAck files our 200 to req, a re-INVITE, as waiting for its ACK, before the 200 is sent
// (the ACK may come before the sender's next line runs). A 200 still waiting is given up: a
// newer re-INVITE was answered, so the older one's ACK will not be awaited any more.
func (c *call) awaitOKAck(req *sip.Request) *okAwaitingAck {
	w := &okAwaitingAck{cseq: req.CSeq().SeqNo, acked: make(chan struct{})}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.okWait != nil {
		close(c.okWait.acked)
	}
	c.okWait = w
	return w
}

// noteAck stops the retransmissions of the 200 that req, an ACK, acknowledges.
func (c *call) noteAck(req *sip.Request) {
	if req.CSeq() == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if w := c.okWait; w != nil && w.cseq == req.CSeq().SeqNo {
		close(w.acked)
		c.okWait = nil
	}
}

// retransmitOK resends res, our 200 that w waits with, T1 after it was sent, then at doubling
// intervals up to T2, until its ACK comes, the call's hold run ends or 64*T1 have passed.
func (h *holdRun) retransmitOK(w *okAwaitingAck, tx sip.ServerTransaction, res *sip.Response) {
	c := h.c
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		giveUp := time.NewTimer(64 * sip.T1)
		defer giveUp.Stop()
		every := sip.T1
		next := time.NewTimer(every)
		defer next.Stop()
		for {
			select {
			case <-w.acked:
				return
			case <-h.ctx.Done():
				return
			case <-giveUp.C:
				h.p.log.Warn("no ACK for our 200 to the far end's re-INVITE", "call", c.id, "cseq", w.cseq)
				c.mu.Lock()
				if c.okWait == w {
					c.okWait = nil
				}
				c.mu.Unlock()
				return
			case <-next.C:
				if err := tx.Respond(res); err != nil {
					return // the transaction has ended
				}
				every = min(2*every, sip.T2)
				next.Reset(every)
			}
		}
	}()
}
