package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/calls"
	"github.com/dialtone/dialtone/ui/transfer"
)

// Mid-call control: hold and resume, swapping between two calls, blind and attended
// transfer, and do-not-disturb. The keys act on the selected call in the calls pane.

// dndMsg carries the phone's do-not-disturb setting, read once at start.
type dndMsg struct{ on bool }

func (m *Model) readDND() tea.Cmd {
	p := m.phone
	if p == nil {
		return nil
	}
	return func() tea.Msg { return dndMsg{on: p.DND()} }
}

// routeMidcall handles the messages this file owns; ok is false for every other message.
func (m *Model) routeMidcall(msg tea.Msg) (cmd tea.Cmd, ok bool) {
	switch msg := msg.(type) {
	case dndMsg:
		m.dnd = msg.on
		return nil, true
	case transfer.BlindMsg:
		// A new transfer's news starts afresh: progress of an earlier one on this call (a
		// failure NOTIFY, or news left by a refused REFER) must not hide its result.
		delete(m.xferNews, msg.CallID)
		p := m.phone
		return m.callCmd("transfer", msg.CallID, func() error { return p.Transfer(msg.CallID, msg.Target) }), true
	case transfer.AttendedMsg:
		delete(m.xferNews, msg.CallID) // as for BlindMsg
		p := m.phone
		return m.callCmd("transfer", msg.CallID, func() error { return p.TransferTo(msg.CallID, msg.OtherID) }), true
	}
	return nil, false
}

// midcallKey handles the mid-call keys; ok is false for any other key.
func (m *Model) midcallKey(msg tea.KeyPressMsg) (cmd tea.Cmd, ok bool) {
	k := m.c.Keys
	switch {
	case key.Matches(msg, k.Hold):
		return m.holdKey(), true
	case key.Matches(msg, k.Swap):
		return m.swapKey(), true
	case key.Matches(msg, k.Transfer):
		c, sel := m.calls.Selected()
		if !sel || !c.InCall() {
			m.setNotice(false, "transfer: select an answered call first")
			return nil, true
		}
		var others []phone.CallStatus
		for _, o := range m.calls.Calls() {
			if o.Status.ID != c.Status.ID && o.InCall() {
				others = append(others, o.Status)
			}
		}
		m.transfer.Open(c.Status, others)
		return nil, true
	case key.Matches(msg, k.DND):
		p, on := m.phone, !m.dnd
		if p == nil {
			return nil, true
		}
		return func() tea.Msg { return cmdResultMsg{op: "dnd", muted: on, err: p.SetDND(on)} }, true
	}
	return nil, false
}

// holdKey holds the selected call, or resumes it. Resuming while another call is being
// talked to holds that one first, as a desk phone does: two calls at once in one
// earpiece help nobody.
func (m *Model) holdKey() tea.Cmd {
	c, ok := m.calls.Selected()
	switch {
	case !ok:
		return nil
	case c.Holding():
		return m.switchTo(c)
	case c.InCall():
		p, id := m.phone, c.Status.ID
		return m.callCmd("hold", id, func() error { return p.Hold(id) })
	}
	m.setNotice(false, "hold: only an answered call can be held")
	return nil
}

// swapKey talks to the selected call if it is on hold, else to the other call on hold,
// holding the call talked to so far.
func (m *Model) swapKey() tea.Cmd {
	all := m.calls.Calls()
	sel, _ := m.calls.Selected()
	var target *calls.Call
	if sel.Holding() {
		target = &sel
	} else {
		for i := range all {
			if all[i].Holding() && all[i].Status.ID != sel.Status.ID {
				target = &all[i]
				break
			}
		}
	}
	if target == nil {
		m.setNotice(false, "swap: no call on hold to swap to")
		return nil
	}
	return m.switchTo(*target)
}

// switchTo resumes target after holding the call being talked to, if any.
func (m *Model) switchTo(target calls.Call) tea.Cmd {
	if m.phone == nil {
		return nil
	}
	var active string
	for _, c := range m.calls.Calls() {
		if c.Status.ID != target.Status.ID && c.Talking() {
			active = c.Status.ID
			break
		}
	}
	p, id := m.phone, target.Status.ID
	if active == "" {
		return m.callCmd("resume", id, func() error { return p.Resume(id) })
	}
	return func() tea.Msg {
		if err := p.Hold(active); err != nil {
			return cmdResultMsg{op: "hold", callID: active, err: err}
		}
		return cmdResultMsg{op: "swap", callID: id, other: active, err: p.Resume(id)}
	}
}

// midcallResult records what a successful mid-call command changed; ok is false for
// other commands.
func (m *Model) midcallResult(r cmdResultMsg) bool {
	switch r.op {
	case "hold":
		m.calls.SetHeld(r.callID, true)
		m.callNotice(r.callID, true, "call on hold")
	case "resume":
		m.calls.SetHeld(r.callID, false)
		m.callNotice(r.callID, true, "call resumed")
	case "swap":
		m.calls.SetHeld(r.other, true)
		m.calls.SetHeld(r.callID, false)
		m.calls.Select(r.callID)
		m.callNotice(r.callID, true, "swapped calls: the other one is on hold")
	case "transfer":
		// The NOTIFYs race this result to the screen: news already shown is newer than this.
		if !m.xferNews[r.callID] {
			m.callNotice(r.callID, true, "transfer accepted by the far end; waiting for the outcome")
		}
		delete(m.xferNews, r.callID)
	case "dnd":
		m.dnd = r.muted
		if m.dnd {
			m.setNotice(true, "do not disturb: new calls are turned away")
		} else {
			m.setNotice(true, "do not disturb off")
		}
	default:
		return false
	}
	return true
}

// midcallEvent shows how a transfer goes: each NOTIFY's status in the log, the outcome on
// the notice line (after a 2xx the core hangs the transferred call up itself).
func (m *Model) midcallEvent(ev phone.Event) {
	switch ev := ev.(type) {
	case phone.DNDChanged:
		m.dnd = ev.On // also when a script turned it (dialtone ctl)
		return
	case phone.HoldChanged:
		m.holdChanged(ev)
		return
	case phone.CallRedirected:
		// The call's line shows the new peer (its status); the log and notice say why.
		why := "no answer there"
		if ev.Code != 0 {
			why = fmt.Sprintf("%d %s", ev.Code, ev.Reason)
		}
		m.appendLogs(LogLine{Time: ev.Time, Level: "INFO", Text: fmt.Sprintf("call %s: redirected to %s (%s)", ev.CallID, ev.To, why)})
		m.callNotice(ev.CallID, true, "redirected to "+ev.To)
		return
	}
	tp, ok := ev.(phone.TransferProgress)
	if !ok {
		return
	}
	status := strings.TrimSpace(fmt.Sprintf("%d %s", tp.Code, tp.Reason))
	if tp.Code == 0 {
		status = tp.Reason
	}
	m.appendLogs(LogLine{Time: tp.Time, Level: "INFO", Text: "call " + tp.CallID + ": transfer " + status})
	if m.xferNews == nil {
		m.xferNews = map[string]bool{}
	}
	m.xferNews[tp.CallID] = true
	switch {
	case !tp.Final:
		m.callNotice(tp.CallID, true, "transfer: "+status)
	case tp.Code >= 200 && tp.Code < 300:
		// Not tied to the call: the core hangs it up now, and the outcome must stay.
		m.setNotice(true, "transferred ("+status+")")
	default:
		m.callNotice(tp.CallID, false, "transfer failed: "+status+"; the call stays")
	}
}

// syncMidcall enables the mid-call keys that work right now and keeps the transfer line's
// candidates current (it closes when its call ends).
func (m *Model) syncMidcall() {
	k := m.c.Keys
	sel, ok := m.calls.Selected()
	inCall := ok && sel.InCall()
	held := false
	for _, c := range m.calls.Calls() {
		held = held || c.Holding()
	}
	k.Hold.SetEnabled(inCall)
	k.Swap.SetEnabled(held && m.calls.Len() > 1)
	k.Transfer.SetEnabled(inCall)
	m.status.SetDND(m.dnd)
	if !m.transfer.Active() {
		return
	}
	var others []phone.CallStatus
	still := false
	for _, c := range m.calls.Calls() {
		switch {
		case c.Status.ID == m.transfer.CallID():
			still = true
		case c.InCall():
			others = append(others, c.Status)
		}
	}
	if !still {
		m.transfer.Close()
		m.setNotice(false, "transfer: the call ended")
		return
	}
	m.transfer.SetOthers(others)
}

// waitingPrompt reports whether a ringing call is a waiting one: another call is in
// progress, so answering it holds that one.
func (m *Model) waitingPrompt() bool {
	for _, c := range m.calls.Calls() {
		if c.InCall() {
			return true
		}
	}
	return false
}
