package main

import (
	"fmt"

	"github.com/dialtone/dialtone/phone"
)

// hold prints a call put on hold or taken off it, by us ("local") or the far end ("remote"):
// NDJSON "hold" or "resume" with "by".
func (p *printer) hold(e phone.HoldChanged) {
	r := record{Event: "resume", Time: stamp(e.Time), Account: e.Account, CallID: e.CallID, By: e.By}
	what := "taken off hold"
	if e.Held {
		r.Event, what = "hold", "on hold"
	}
	who := "us"
	if e.By == "remote" {
		who = "the far end"
	}
	p.emit(r, fmt.Sprintf("%s %s: %s by %s", e.Time.Format("15:04:05"), e.CallID, what, who))
}

// dnd prints do-not-disturb turned on or off: NDJSON "dnd" with "status" and "code".
func (p *printer) dnd(e phone.DNDChanged) {
	r := record{Event: "dnd", Time: stamp(e.Time), Status: "off"}
	human := fmt.Sprintf("%s do not disturb off", e.Time.Format("15:04:05"))
	if e.On {
		r.Status, r.Code = "on", e.Code
		human = fmt.Sprintf("%s do not disturb on: new calls get %d", e.Time.Format("15:04:05"), e.Code)
	}
	p.emit(r, human)
}

// repeated reports whether a call's status says nothing the printed lines have not: the
// holding and held states (the hold events say them), "answered" again after a resume or a
// mute, and a ringing state again (a redirect). Scripts wait for "answered" once per call.
func (p *printer) repeated(s phone.CallStatus) bool {
	if p.last == nil {
		p.last = map[string]phone.CallState{}
	}
	was, seen := p.last[s.ID]
	p.last[s.ID] = s.State
	if s.State == phone.CallEnded {
		delete(p.last, s.ID)
	}
	if s.State == phone.CallCalling && p.justRedirected[s.ID] {
		delete(p.justRedirected, s.ID)
		return true // the redirect's "calling" again: the "redirected" line said it
	}
	switch s.State {
	case phone.CallCalling, phone.CallRinging, phone.CallEarlyMedia:
		return seen && was == s.State
	case phone.CallHolding, phone.CallHeld:
		return true
	case phone.CallAnswered:
		if p.answered == nil {
			p.answered = map[string]bool{}
		}
		if p.answered[s.ID] {
			return true
		}
		p.answered[s.ID] = true
	}
	return false
}
