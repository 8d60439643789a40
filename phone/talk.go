package phone

import (
	"context"
	"time"

	lifecycle "github.com/dialtone/dialtone/phone/call"
	"github.com/dialtone/dialtone/phone/media"
	"github.com/emiago/sipgo/sip"
)

// statsInterval is how often a call reports its media statistics.
const statsInterval = 5 * time.Second

// byeTimeout bounds our BYE, so hanging up never hangs on a peer that went away.
const byeTimeout = 5 * time.Second

// silentByeTimeout bounds the BYE after a media timeout: the far end has sent nothing for the
// whole RTP timeout and is most likely gone, so the hang-up is not held 5 s more for it. Over
// UDP that is still three transmissions (0, 0.5 and 1.5 s).
const silentByeTimeout = 2 * time.Second

// dialog is what talk needs of either side's sipgo dialog session.
type dialog interface {
	Bye(ctx context.Context) error
	Context() context.Context
	Do(ctx context.Context, req *sip.Request) (*sip.Response, error) // a request in the dialog (re-INVITE)
	WriteRequest(req *sip.Request) error                             // its ACK
}

// PlaybackEnded reports that a call's audio source (a file) has ended.
type PlaybackEnded struct {
	Time   time.Time
	CallID string
}

// EventTime implements Event.
func (e PlaybackEnded) EventTime() time.Time { return e.Time }

// watchSilence is the watch's look at the far end's audio at now: a warning when it has
// been silent for silenceWarnAfter, the media timeout's input when there has been neither RTP
// nor RTCP for the limit. after is how long it may sleep until its next look (watchNext).
func (p *Phone) watchSilence(c *call, ms *media.Session, silence *silenceWatch, now time.Time) (in lifecycle.Input, after time.Duration) {
	if c.onHold() {
		*silence = silenceWatch{}
		return nil, watchNext(0, 0, 0, false, true) // no audio is expected on hold either way
	}
	sinceRTP, sinceAny := ms.Activity(now)
	if w, ok := silence.check(sinceRTP); ok {
		c.mu.Lock()
		addr, remote := c.addr, c.remoteSDP
		c.mu.Unlock()
		w.Time, w.CallID, w.Account = p.clock.Now(), c.id, c.accountName()
		w.Reason = silenceCause(addr, remote, ms.Stats().PacketsReceived > 0)
		p.log.Warn("no audio from the far end", "call", c.id, "for", sinceRTP.String(), "cause", w.Reason)
		p.publish(w)
	}
	limit := p.rtpTimeout()
	after = watchNext(sinceRTP, sinceAny, limit, silence.warned, false)
	if limit > 0 && sinceAny >= limit {
		p.log.Warn("media timeout: hanging up", "call", c.id, "silent_for", sinceAny.String())
		return lifecycle.MediaTimeout{Reason: "no RTP or RTCP for " + limit.String()}, after
	}
	return nil, after
}

// talk runs an answered call until either side hangs up, the media times out or the phone
// stops; the state machine decides what each of those means.
func (p *Phone) talk(ctx context.Context, c *call, ms *media.Session, d dialog) {
	timer := newTalkClock(time.Now()) // the call's one timer: statistics and silence watch
	defer timer.stop()
	var silence silenceWatch
	events := ms.Events()
	// Each channel that has fired is set to nil, so a closed one cannot spin the loop even if
	// the machine were to ignore what it said.
	hangup, stopping, bye := c.hangupCh, ctx.Done(), d.Context().Done()
	h := newHoldRun(p, c, ms, d)
	defer h.close()
	infoKick, infoWaiting := c.infoKick()
	if infoWaiting { // digits asked for before this loop ran
		h.startInfo()
	}
	c.mu.Lock()
	c.talking = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.talking = false
		c.mu.Unlock()
	}()
	for !c.ended() {
		var in lifecycle.Input
		select {
		case on := <-c.holdCh:
			in = lifecycle.HoldRequest{Hold: on}
		case <-infoKick:
			h.startInfo()
			continue
		case o := <-c.offerCh:
			h.offer, in = o, lifecycle.RemoteOffer{}
		case ans := <-c.ackAnswers:
			in = h.ackAnswer(ans)
		case <-h.noAck:
			in = lifecycle.AckTimeout{}
		case r := <-h.results:
			in = h.result(r)
		case <-h.retry:
			h.retry, in = nil, lifecycle.RetryOffer{}
		case now := <-timer.C():
			stats, watch := timer.due(now)
			if stats {
				p.publishStats(c, ms, false)
			}
			if !watch {
				timer.rearm(now)
				continue
			}
			var after time.Duration
			in, after = p.watchSilence(c, ms, &silence, now)
			timer.watched(now, after)
		case <-hangup:
			hangup, in = nil, lifecycle.Hangup{}
		case <-stopping: // the phone is shutting down
			stopping, in = nil, lifecycle.Shutdown{}
		case <-bye:
			bye, in = nil, lifecycle.RemoteBye{}
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev.SourceEnded {
				p.publish(PlaybackEnded{Time: p.clock.Now(), CallID: c.id})
			}
			if ev.Digit != 0 {
				p.publish(DTMFReceived{Time: p.clock.Now(), CallID: c.id, Digit: ev.Digit})
			}
			if ev.SourceLost != nil || ev.SinkLost != nil {
				p.publishDeviceLost(c, ev) // audiolost.go
			}
		}
		for in != nil {
			var next lifecycle.Input
			for _, e := range c.advance(in) {
				if n, ok := h.do(e); ok {
					next = n
					continue
				}
				switch e := e.(type) {
				case lifecycle.SendBye:
					limit := byeTimeout
					if _, silent := in.(lifecycle.MediaTimeout); silent {
						limit = silentByeTimeout
					}
					p.sendBye(c, d, limit)
				case lifecycle.End:
					// The media stops before the front end hears of the end: it closes the
					// call's audio (a WAV file, a device) on CallEnded, and the pacer must
					// not be reading it then. Close is idempotent; the callers' deferred
					// Close finds it done. The final statistics come after it: taken before,
					// a packet sent or received in between was in a capture (--pcap-rtp) but
					// not in them.
					ms.Close()
					p.publishStats(c, ms, true)
					p.endAs(c, e.Outcome, nil)
				}
			}
			in = next
		}
		h.respondLeftover()
	}
}

// sendBye ends the dialog, bounded in time: a far end that went away must not hold us.
func (p *Phone) sendBye(c *call, d dialog, limit time.Duration) {
	bctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if err := c.bye(bctx, d); err != nil {
		p.log.Warn("BYE not confirmed", "call", c.id, "err", err)
	}
}

func (p *Phone) publish(e Event) {
	p.mu.Lock()
	p.bus.publish(e)
	p.mu.Unlock()
}

// registerDialog lets in-dialog requests (BYE, re-INVITE, ACK) find the call.
func (p *Phone) registerDialog(c *call, id string) {
	p.mu.Lock()
	p.dialogs[id] = c
	p.mu.Unlock()
	c.mu.Lock()
	c.dialogID = id
	c.mu.Unlock()
}
