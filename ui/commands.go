package ui

import (
	"errors"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dialtone/dialtone/ui/common"
)

var (
	errNoSave  = errors.New("the caller gave no Save function")
	errNoPhone = errors.New("no phone to send with")
)

// Phone commands run as tea.Cmds, off the event loop: the caller's adapter may open a sound
// device in Dial and Answer, which takes long enough to freeze the screen. Their results come
// back as these messages.

type dialResultMsg struct {
	account, target, id string
	err                 error
}

type cmdResultMsg struct {
	op     string // answer, reject, hangup, mute, dtmf, hold, resume, swap, transfer, dnd
	callID string
	other  string // swap: the call put on hold
	muted  bool   // mute, dnd: the state asked for
	digits string // dtmf: what was sent
	err    error
}

// tickMsg redraws the running call timers.
type tickMsg time.Time

// dialCmd places a call. A call being talked to goes on hold first, as on a desk phone (and
// in baresip and MicroSIP): the new call then has the earpiece to itself, and the two can be
// swapped or joined by an attended transfer.
func (m *Model) dialCmd(account, target string) tea.Cmd {
	p := m.phone
	if p == nil {
		return nil
	}
	active := ""
	if c, ok := m.calls.Answered(); ok {
		active = c.Status.ID
	}
	return func() tea.Msg {
		if active != "" {
			if err := p.Hold(active); err != nil {
				return dialResultMsg{account: account, target: target, err: fmt.Errorf("hold call %s first: %w", active, err)}
			}
		}
		id, err := p.Dial(account, target)
		if err != nil && active != "" {
			// Nothing was dialled: the call we held for it must not wait on hold unnoticed.
			if rerr := p.Resume(active); rerr != nil {
				err = fmt.Errorf("%w (and call %s stays on hold: %v)", err, active, rerr)
			}
		}
		return dialResultMsg{account: account, target: target, id: id, err: err}
	}
}

func (m *Model) callCmd(op, id string, f func() error) tea.Cmd {
	if m.phone == nil {
		return nil
	}
	return func() tea.Msg { return cmdResultMsg{op: op, callID: id, err: f()} }
}

func (m *Model) muteCmd(id string, muted bool) tea.Cmd {
	p := m.phone
	if p == nil {
		return nil
	}
	return func() tea.Msg { return cmdResultMsg{op: "mute", callID: id, muted: muted, err: p.Mute(id, muted)} }
}

// sendDTMF queues digits for a call and starts sending unless a send is in flight. Each
// command is its own goroutine, so two in flight could reach the phone out of order.
func (m *Model) sendDTMF(id, digits string) tea.Cmd {
	if m.phone == nil {
		return nil
	}
	if m.dtmfBusy {
		if id == m.dtmfCall {
			m.dtmfPending += digits
		}
		return nil // a digit for another call while one is still being sent: drop it
	}
	m.dtmfBusy, m.dtmfCall = true, id
	p := m.phone
	return func() tea.Msg {
		return cmdResultMsg{op: "dtmf", callID: id, digits: digits, err: p.SendDTMF(id, digits)}
	}
}

// armTick schedules the next timer redraw, but only while a call is answered: when nothing
// runs, nothing ticks.
func (m *Model) armTick() tea.Cmd {
	if m.ticking || !m.calls.HasAnswered() {
		return nil
	}
	m.ticking = true
	return m.after(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// handleResult reports a command's outcome on the notice line and records what it changed.
func (m *Model) handleResult(r cmdResultMsg) tea.Cmd {
	var next tea.Cmd
	if r.op == "dtmf" {
		m.dtmfBusy = false
		pending := m.dtmfPending
		m.dtmfPending = ""
		if r.err == nil {
			m.calls.AddSent(r.callID, r.digits)
			if pending != "" {
				next = m.sendDTMF(r.callID, pending)
			}
		}
	}
	if r.err != nil && r.callID == "" {
		m.setNotice(false, fmt.Sprintf("%s: %v", r.op, r.err))
		return next
	}
	if r.err != nil {
		m.setNotice(false, fmt.Sprintf("%s %s: %v", r.op, r.callID, r.err))
		return next
	}
	switch r.op {
	case "answer":
		m.calls.Select(r.callID)
		m.callNotice(r.callID, true, "answered")
	case "reject":
		m.setNotice(true, fmt.Sprintf("rejected (%d)", RejectCode))
	case "hangup":
		m.callNotice(r.callID, true, "hanging up")
	case "mute":
		m.calls.SetMuted(r.callID, r.muted)
		if r.muted {
			m.callNotice(r.callID, true, "microphone muted")
		} else {
			m.callNotice(r.callID, true, "microphone on")
		}
	case "dtmf":
		m.callNotice(r.callID, true, "sent DTMF "+r.digits)
	default:
		m.midcallResult(r)
	}
	return next
}

func (m *Model) handleDial(r dialResultMsg) {
	if r.err != nil {
		m.setNotice(false, fmt.Sprintf("dial %s: %v", common.Clean(r.target), r.err))
		return
	}
	m.dialer.Remember(r.target)
	m.history.Dialled(r.id, r.target)
	m.calls.Select(r.id)
	m.callNotice(r.id, true, "calling "+common.Clean(r.target))
}

func (m *Model) setNotice(ok bool, text string) {
	m.notice, m.noticeOK, m.noticeCall = common.Clean(text), ok, ""
	if !ok {
		// Errors also go to the log pane, where they outlive the next notice.
		m.log.Append(logLine(LogLine{Time: m.c.Now(), Level: "ERROR", Text: m.notice}))
	}
}

// callNotice is setNotice for a notice about call id ("microphone muted", "Bob put the call
// on hold"): callEnded clears it when the call ends. Nothing else would replace it on an
// idle screen, and a timer would redraw an idle TUI.
func (m *Model) callNotice(id string, ok bool, text string) {
	m.setNotice(ok, text)
	m.noticeCall = id
}

// callEnded forgets what the UI kept about a call that ended: the notice about it, and
// whether its transfer reported progress.
func (m *Model) callEnded(id string) {
	if id == m.noticeCall {
		m.notice, m.noticeCall = "", ""
	}
	delete(m.xferNews, id)
}
