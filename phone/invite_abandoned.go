package phone

import (
	"context"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// A call hung up before its INVITE got any response ends for the user at once, but the INVITE
// is still out there: the callee may be about to ring. RFC 3261 9.1 forbids a CANCEL before a
// provisional response, so the INVITE is followed in the background, as PJSIP does: once a
// provisional response comes, sipgo sends the CANCEL (its WaitAnswer, whose context
// inviteOnce cancelled on return); if the callee answered meanwhile, its 200 is acknowledged
// and the call hung up with a BYE; a final error or Timer B (32 s) ends it quietly. Before,
// the INVITE was simply forgotten: the callee rang on, and an answer was never acknowledged.

// cancelGrace is how long a cancelled INVITE's call waits for the final response (487, or a
// 200 that crossed the CANCEL) before it ends and leaves the INVITE to followAbandonedInvite.
// A server answers a CANCEL's 200 and the 487 together; some gateways and SBCs send the 200
// alone, and sipgo would wait for the 487 until Timer B (32 s) while the user, who had hung
// up or seen the ring timeout, watched the call ring on. 4×T1 (T1 = 500 ms): a lost 487 is
// sent again by then (Timer G).
const cancelGrace = 2 * time.Second

// abandonedGrace is how long a phone that is stopping still follows an abandoned INVITE (for
// a provisional response to CANCEL after): the process is exiting, and the stack's close then
// ends the transaction.
const abandonedGrace = 2 * time.Second

// followAbandonedInvite owns the rest of an INVITE whose call has ended: done delivers its
// WaitAnswer's result. The goroutine is counted in callWG, so Run waits for it (at most
// abandonedGrace once the phone is stopping).
func (p *Phone) followAbandonedInvite(sess *sipgo.DialogClientSession, done <-chan error) {
	p.mu.Lock()
	stopping := p.runCtx
	p.mu.Unlock()
	if stopping == nil {
		stopping = context.Background()
	}
	p.callWG.Add(1) // the call goroutine holds callWG, so this Add never races Run's Wait
	go func() {
		defer p.callWG.Done()
		var err error
		select {
		case err = <-done:
		case <-stopping.Done():
			select {
			case err = <-done:
			case <-time.After(abandonedGrace):
				p.log.Info("call: an abandoned INVITE left unanswered at exit")
				return
			}
		}
		res := sess.InviteResponse
		if res == nil || !res.IsSuccess() {
			p.log.Debug("call: abandoned INVITE ended", "err", err)
			return
		}
		p.hangUpLateAnswer(sess, res)
	}()
}

// hangUpLateAnswer acknowledges a 200 that came after the user hung up and ends that dialog.
func (p *Phone) hangUpLateAnswer(sess *sipgo.DialogClientSession, res *sip.Response) {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if err := sess.Ack(ctx); err != nil {
		p.log.Warn("call: acknowledging an answer that came after the hang-up", "err", err)
		return
	}
	if err := sess.Bye(ctx); err == nil {
		p.log.Info("call: answered after the hang-up; acknowledged and hung up")
		return
	}
	// The 200 came while sipgo waited to CANCEL, so its dialog was never marked established
	// and sipgo's Bye refuses it: the BYE goes in the dialog by hand, to the callee's Contact.
	cont := res.Contact()
	if cont == nil {
		p.log.Warn("call: an answer after the hang-up had no Contact; cannot send BYE")
		return
	}
	bye := sip.NewRequest(sip.BYE, cont.Address)
	if _, err := sess.Do(ctx, bye); err != nil {
		p.log.Warn("call: BYE for an answer that came after the hang-up", "err", err)
		return
	}
	p.log.Info("call: answered after the hang-up; acknowledged and hung up")
}
