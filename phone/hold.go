package phone

import (
	"fmt"
	"time"

	lifecycle "github.com/dialtone/dialtone/phone/call"
)

// HoldChanged reports that one side put an answered call on hold or took it off: By is
// "local" for our Hold and Resume, "remote" for the far end's re-INVITE or UPDATE. The call's
// CallStatus changes with it (CallHolding, CallHeld, Held, RemoteHeld).
type HoldChanged struct {
	Time    time.Time
	CallID  string
	Account string
	Held    bool
	By      string
}

// EventTime implements Event.
func (e HoldChanged) EventTime() time.Time { return e.Time }

// Hold puts an answered call on hold: a re-INVITE offering a=sendonly (a=inactive when the far
// end holds us already), and no RTP sent or played while it holds (RTCP goes on). It returns
// once the request is queued; HoldChanged reports the outcome. Holding a held call does nothing.
func (p *Phone) Hold(id string) error { return p.setHold(id, true) }

// Resume takes a call we hold off hold: a re-INVITE offering a=sendrecv. Every other call we
// talk on is put on hold, so resuming one of two calls swaps between them.
func (p *Phone) Resume(id string) error {
	if err := p.setHold(id, false); err != nil {
		return err
	}
	p.holdOthers(id)
	return nil
}

func (p *Phone) setHold(id string, on bool) error {
	c, err := p.lookupCall(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	established := c.machine.Established()
	c.mu.Unlock()
	if !established {
		return fmt.Errorf("call %s: not answered, nothing to hold", id)
	}
	select {
	case c.holdCh <- on:
		return nil
	default:
		return fmt.Errorf("call %s: too many hold and resume requests waiting", id)
	}
}

// holdOthers puts every answered call but keep on hold (call waiting: answering a second
// call holds the first).
func (p *Phone) holdOthers(keep string) {
	p.mu.Lock()
	var others []*call
	for id, c := range p.calls {
		if id != keep {
			others = append(others, c)
		}
	}
	p.mu.Unlock()
	for _, c := range others {
		c.mu.Lock()
		talking := c.machine.Established() && !c.machine.Hold.Want
		c.mu.Unlock()
		if talking {
			if err := p.Hold(c.id); err != nil {
				p.log.Warn("call waiting: could not hold the other call", "call", c.id, "err", err)
			}
		}
	}
}

// holdState is the call's hold, for its CallStatus.
func (c *call) holdState() lifecycle.Hold {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.machine.Hold
}

// onHold reports whether either side holds the call: no audio is expected then, so neither
// the silence warning nor the RTP timeout applies (as in baresip).
func (c *call) onHold() bool {
	h := c.holdState()
	return h.Local || h.Remote
}
