package phone

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	lifecycle "github.com/dialtone/dialtone/phone/call"
	"github.com/dialtone/dialtone/phone/media"
	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/dialtone/dialtone/phone/srtp"
	"github.com/emiago/sipgo/sip"
)

// reinviteTimeout bounds our re-INVITE: Timer B, after which RFC 3261 counts it as a 408.
const reinviteTimeout = 32 * time.Second

// remoteOffer is the far end's offer in the dialog (re-INVITE or UPDATE), handed from sipgo's
// handler goroutine to the call's talk loop, which answers it and closes done.
type remoteOffer struct {
	req  *sip.Request
	tx   sip.ServerTransaction
	done chan struct{}
}

// offerOutcome is how our re-INVITE ended.
type offerOutcome struct {
	code   int
	reason string
	params media.Params // the negotiated media, when ok
	ok     bool
	hold   bool // the answer refuses to receive
}

// holdRun carries out the hold effects of one answered call's machine; talk owns it and
// feeds it the inputs. The re-INVITE runs in its own goroutine (the talk loop must keep
// hearing BYE and hang-ups meanwhile), which close cancels and waits for.
type holdRun struct {
	p       *Phone
	c       *call
	ms      *media.Session
	d       dialog
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	results chan offerOutcome // one re-INVITE at a time (the machine sees to it): never blocks
	retry   <-chan time.Time  // the glare timer, nil when not running
	timer   *time.Timer
	offer   *remoteOffer // the far end's offer being answered
	answer  []byte       // our answer to it
	params  media.Params // what UpdateMedia applies
	// inAck is our offer in the 200 to their re-INVITE without SDP (hold_ack.go) until the 200
	// goes: its answer comes in the ACK.
	inAck *sdp.Local
	// noAck says our 200 to a re-INVITE had no ACK in 64·T1 (reinvite_ok.go).
	noAck chan struct{}
}

func newHoldRun(p *Phone, c *call, ms *media.Session, d dialog) *holdRun {
	ctx, cancel := context.WithCancel(context.Background())
	return &holdRun{p: p, c: c, ms: ms, d: d, ctx: ctx, cancel: cancel, results: make(chan offerOutcome, 1),
		noAck: make(chan struct{}, 1)}
}

// close ends a re-INVITE in flight and the glare timer, and refuses an offer left unanswered.
func (h *holdRun) close() {
	h.cancel()
	h.wg.Wait()
	if h.timer != nil {
		h.timer.Stop()
	}
	h.respondLeftover()
}

// respondLeftover answers an offer the machine did not (the call ended meanwhile).
func (h *holdRun) respondLeftover() {
	if h.offer != nil {
		h.respond(481, "Call/Transaction Does Not Exist")
	}
}

// result turns our re-INVITE's outcome into the machine's input.
func (h *holdRun) result(r offerOutcome) lifecycle.Input {
	if r.ok {
		h.params = r.params
	}
	return lifecycle.OfferResult{Code: r.code, Reason: r.reason, OK: r.ok, RemoteHold: r.hold}
}

// do carries out one hold effect; an effect that learns something returns the next input.
// It reports false for effects that are not about hold.
func (h *holdRun) do(e lifecycle.Effect) (next lifecycle.Input, handled bool) {
	c, p := h.c, h.p
	switch e := e.(type) {
	case lifecycle.SendReinvite:
		h.sendReinvite(sdp.Direction(e.Dir))
	case lifecycle.RetryOfferAfter:
		d := e.Min + time.Duration(rand.Int64N(int64(e.Max-e.Min)+1))
		p.log.Info("re-INVITE crossed the far end's (491): retrying", "call", c.id, "in", d.Round(time.Millisecond).String())
		h.timer = time.NewTimer(d)
		h.retry = h.timer.C
	case lifecycle.AnswerOffer:
		return h.answerOffer(e.Hold), true
	case lifecycle.RespondOffer:
		h.respond(e.Code, e.Reason)
	case lifecycle.UpdateMedia:
		params := h.params
		if e.Silent {
			params.Send, params.Receive = false, false // on hold we send no RTP and play nothing; RTCP goes on
		}
		h.ms.Update(params)
		c.mu.Lock()
		c.remoteSDP, c.params = params.Remote, h.params
		c.mu.Unlock()
		p.mediaTermsChanged(c, h.params)
	case lifecycle.Publish:
		p.publishState(c, e.State, nil)
	case lifecycle.HoldChanged:
		p.publishHold(c, e)
	case lifecycle.HoldFailed:
		p.log.Warn("hold or resume refused: the call stays as it was", "call", c.id, "code", e.Code, "reason", e.Reason)
		// Said in the call's status too: a front end that showed the hold when it asked for
		// it (the TUI's calls pane) learns that it did not happen.
		hs := c.holdState()
		p.update(c, func(s *CallStatus) { s.Held, s.RemoteHeld = hs.Local, hs.Remote })
	default:
		return nil, false
	}
	return nil, true
}

// publishHold tells the front end that a side put the call on hold or took it off.
func (p *Phone) publishHold(c *call, e lifecycle.HoldChanged) {
	p.log.Info("hold", "call", c.id, "held", e.Held, "by", string(e.By))
	p.publish(HoldChanged{Time: p.clock.Now(), CallID: c.id, Account: c.accountName(), Held: e.Held, By: string(e.By)})
}

// sendReinvite offers the session again with direction dir, in its own goroutine.
func (h *holdRun) sendReinvite(dir sdp.Direction) {
	c := h.c
	c.mu.Lock()
	c.local.SessionVersion++
	c.local.Dir = dir
	local, contact, a := c.local, c.contact, CallAudio{Source: c.source, Sink: c.sink}
	c.mu.Unlock()
	offer, err := sdp.Offer(local)
	if err != nil {
		h.results <- offerOutcome{code: 500, reason: "SDP offer: " + err.Error()}
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.results <- h.p.reinvite(h.ctx, c, h.d, contact, offer, local, a)
	}()
}

// answerOffer negotiates our answer to the far end's offer, holding it if hold.
func (h *holdRun) answerOffer(hold bool) lifecycle.Input {
	c := h.c
	c.mu.Lock()
	c.local.SessionVersion++
	c.local.Dir = sdp.SendRecv
	if hold {
		c.local.Dir = sdp.SendOnly
	}
	local, a, current, remote := c.local, CallAudio{Source: c.source, Sink: c.sink}, c.params, c.machine.Hold.Remote
	c.mu.Unlock()
	body, berr := sdpBody(h.offer.req) // a multipart body's SDP part (sdpbody.go)
	if berr == nil && len(body) == 0 {
		// A re-INVITE without SDP (a session refresh, or a delayed offer): our offer goes in
		// the 200, the answer comes in the ACK (hold_ack.go applies it), and until then the
		// media stays as it is. So the offer is the session as it stands, its codec and the key
		// in force under the tag it settled with: an answer that picks another would have the
		// far end send it before we have the ACK.
		if current.Codec != nil {
			local.Codecs = []string{current.Codec.Name()}
		}
		if current.SRTP != nil {
			local.Crypto = []srtp.Crypto{current.SRTP.Local}
		}
		offer, err := sdp.Offer(local)
		if err != nil {
			h.p.log.Warn("offer for a re-INVITE without SDP", "call", c.id, "err", err)
			return lifecycle.OfferAnswered{}
		}
		h.answer, h.params, h.inAck = offer, current, &local
		return lifecycle.OfferAnswered{OK: true, RemoteHold: remote, InAck: true}
	}
	var answer []byte
	var n sdp.Negotiated
	o, err := sdp.ParseOffer(body) // once: for its suites, then for the answer
	if berr != nil {
		err = berr
	}
	if err == nil {
		if keys, kerr := keysAdded(local.Encryption, local.Crypto, o.CryptoSuites()); kerr == nil && len(keys) > len(local.Crypto) {
			local.Crypto = keys
			c.mu.Lock()
			c.local.Crypto = keys // kept for the call's later offers and answers
			c.mu.Unlock()
		}
		answer, n, err = o.Answer(local)
	}
	if err == nil {
		h.params, err = mediaParams(n, a)
	}
	if err != nil {
		h.p.log.Warn("the far end's new offer is unusable: 488, the call goes on", "call", c.id, "err", err)
		return lifecycle.OfferAnswered{}
	}
	h.answer = answer
	h.p.log.Info("offer in the dialog answered", "call", c.id, "method", string(h.offer.req.Method), "held_by_far_end", n.Hold)
	return lifecycle.OfferAnswered{OK: true, RemoteHold: n.Hold}
}

// respond sends the final response to the far end's offer and lets its handler go.
func (h *holdRun) respond(code int, reason string) {
	o := h.offer
	if o == nil {
		return
	}
	h.offer = nil
	defer close(o.done)
	var res *sip.Response
	if code == 200 {
		res = sip.NewSDPResponseFromRequest(o.req, h.answer)
		h.c.mu.Lock()
		res.AppendHeader(&sip.ContactHeader{Address: h.c.contact})
		h.c.mu.Unlock()
		h.c.refreshTarget(o.req.Contact())
	} else {
		res = sip.NewResponseFromRequest(o.req, code, reason, nil)
		if code == 500 { // RFC 3261 14.2: a random Retry-After of 0-10 s
			res.AppendHeader(sip.NewHeader("Retry-After", strconv.Itoa(rand.IntN(11))))
		}
	}
	var w *okAwaitingAck
	if code == 200 && o.req.Method == sip.INVITE {
		w = h.c.awaitOKAck(o.req, h.inAck) // retransmitted until its ACK (reinvite_ok.go)
	}
	h.inAck = nil
	if err := o.tx.Respond(res); err != nil {
		h.p.log.Warn("respond to the far end's offer", "call", h.c.id, "code", code, "err", err)
		if w != nil {
			h.c.noAckComing(w) // our offer in it will never be answered
		}
		return
	}
	if w != nil {
		h.retransmitOK(w, o.tx, res)
	}
}
