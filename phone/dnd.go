package phone

import (
	"sync/atomic"
	"time"

	lifecycle "github.com/dialtone/dialtone/phone/call"
	"github.com/emiago/sipgo/sip"
)

// dndState is do-not-disturb: while on, new incoming calls are refused at once with code. It
// is one atomic word (code<<1 | on), read on every INVITE without the phone's lock (which
// cost ~13 µs of INVITE → 200 OK when other work held it); SetDND still writes it under the
// lock, so its events come in the order of the changes.
type dndState struct{ v atomic.Uint32 }

func (d *dndState) load() (on bool, code int) {
	v := d.v.Load()
	return v&1 == 1, int(v >> 1)
}

func (d *dndState) store(on bool, code int) {
	v := uint32(code) << 1
	if on {
		v |= 1
	}
	d.v.Store(v)
}

// DNDChanged reports do-not-disturb turned on or off (Code is the refusal it sends).
type DNDChanged struct {
	Time time.Time
	On   bool
	Code int
}

// EventTime implements Event.
func (e DNDChanged) EventTime() time.Time { return e.Time }

// SetDND turns do-not-disturb on or off. While on, every new incoming call is answered code at
// once (603 Decline and any other 4xx-6xx work too), never rings, and is recorded in the
// history as rejected. Code 0 keeps the code set before (Config.DNDCode, else 486), read and
// kept in one step: two front ends setting it at once cannot undo each other's code. Calls in
// progress are not touched.
func (p *Phone) SetDND(on bool, code int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if code == 0 {
		_, code = p.dnd.load()
	}
	if code < 400 || code > 699 {
		code = 486
	}
	p.dnd.store(on, code)
	p.bus.publish(DNDChanged{Time: p.clock.Now(), On: on, Code: code})
	p.log.Info("do not disturb", "on", on, "code", code)
}

// DND reports whether do-not-disturb is on, and the code new calls get.
func (p *Phone) DND() (bool, int) {
	on, code := p.dnd.load()
	if code == 0 {
		return on, 486
	}
	return on, code
}

// refuseDND turns a new incoming call away when do-not-disturb is on, through the call's
// state machine so that it ends and is recorded like any refused call (no "incoming" event:
// the point is not to be disturbed). It reports whether it did.
func (p *Phone) refuseDND(c *call, req *sip.Request, tx sip.ServerTransaction) bool {
	on, code := p.DND()
	if !on {
		return false
	}
	reason := reasonPhrase(code)
	for _, e := range c.advance(lifecycle.Reject{Code: code, Reason: reason}) {
		switch e := e.(type) {
		case lifecycle.Respond:
			if err := tx.Respond(sip.NewResponseFromRequest(req, e.Code, e.Reason, nil)); err != nil {
				p.log.Debug("respond to INVITE", "code", e.Code, "err", err)
			}
		case lifecycle.End:
			e.Outcome.Reason += " (do not disturb)"
			p.endAs(c, e.Outcome, nil)
		}
	}
	return true
}
