package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/charmbracelet/x/ansi"
	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
	"github.com/dialtone/dialtone/ui/confirm"
	"github.com/dialtone/dialtone/ui/dialer"
	"github.com/dialtone/dialtone/ui/firstrun"
	"github.com/dialtone/dialtone/ui/history"
	"github.com/dialtone/dialtone/ui/ladder"
	"github.com/dialtone/dialtone/ui/logpane"
	"github.com/dialtone/dialtone/ui/messages"
	"github.com/dialtone/dialtone/ui/notify"
	"github.com/dialtone/dialtone/ui/styles"
)

// Update routes a message. After every message the derived state (prompt, enabled keys,
// layout, timer) is brought up to date in one place, so no handler can forget it.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.route(msg)
	if m.quitting {
		return m, cmd
	}
	m.sync()
	return m, tea.Batch(cmd, m.armTick())
}

func (m *Model) route(msg tea.Msg) tea.Cmd {
	if cmd, ok := m.routeMidcall(msg); ok {
		return cmd
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return nil
	case tea.BackgroundColorMsg:
		*m.c.Styles = *styles.New(msg.IsDark(), m.opts.NoColor)
		return nil
	case tea.ModeReportMsg:
		// The terminal knows mode 2027: Bubble Tea's renderer now measures grapheme clusters
		// as lipgloss does, and text from the network keeps them whole (common.Clean).
		if msg.Mode == ansi.ModeUnicodeCore && (msg.Value == ansi.ModeReset || msg.Value == ansi.ModeSet ||
			msg.Value == ansi.ModePermanentlySet) {
			common.SetFit(false)
		}
		return nil
	case eventMsg:
		return tea.Batch(m.handleEvent(msg.ev), waitEvent(m.events))
	case phone.Event:
		return m.handleEvent(msg)
	case subClosedMsg:
		// The phone stopped (its Run returned): nothing on screen works any more.
		return m.quit()
	case logMsg:
		m.appendLogs(msg.lines...)
		return waitLogs(m.opts.Logs)
	case LogLine:
		m.appendLogs(msg)
		return nil
	case logsClosedMsg:
		return nil
	case tickMsg:
		m.ticking = false // Update re-arms it if a call is still answered
		return nil
	case dialResultMsg:
		m.handleDial(msg)
		return nil
	case cmdResultMsg:
		return m.handleResult(msg)
	case messageSentMsg:
		m.handleSent(msg)
		return nil
	case convsLoadedMsg:
		return m.handleConversations(msg)
	case threadLoadedMsg:
		m.handleThread(msg)
		return nil
	case callsLoadedMsg:
		m.handleCalls(msg)
		return nil
	case contactsLoadedMsg:
		m.dialer.SetContacts(msg.contacts)
		return nil
	case ladder.SavedMsg: // a ctrl+s capture written off this goroutine
		return m.ladder.Update(msg)
	case messages.SelectMsg:
		return m.loadThread(msg.Peer)
	case messages.OpenMsg:
		return tea.Batch(m.markRead(msg.Peer), m.loadThread(msg.Peer))
	case messages.SendMsg:
		return m.sendMessage(msg)
	case messages.AccountMsg:
		m.dialer.NextAccount()
		return nil
	case dialer.DialMsg:
		return m.dialCmd(msg.Account, msg.Target)
	case history.RedialMsg:
		return m.dialCmd(msg.Account, msg.Target)
	case confirm.ResultMsg:
		if msg.Yes {
			return m.quit()
		}
		return nil
	case firstrun.DoneMsg:
		m.form = nil
		if msg.Saved {
			// Registration, if the caller's Save started it (phone.AddAccount), shows in the
			// status bar like any other account's.
			m.setNotice(true, "account "+msg.Account+" saved")
		} else {
			m.setNotice(true, "no account configured: dial echo to test your audio")
		}
		return nil
	case tea.PasteMsg:
		switch {
		case m.form != nil:
			return m.form.Update(msg)
		case m.transfer.Active():
			return m.transfer.Update(msg)
		case m.dialer.Focused():
			return m.dialer.Update(msg)
		case m.messages.Typing():
			return m.messages.Update(msg)
		case m.ladder.Active():
			return m.ladder.Update(msg)
		}
		return nil
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	}
	// Anything else (answers from the add-account form's Save, ...) goes to the form.
	if m.form != nil {
		return m.form.Update(msg)
	}
	return nil
}

// handleEvent hands a phone event to every component (each takes what it needs), rings for
// new incoming calls and messages, and reads History again when it changed.
func (m *Model) handleEvent(ev phone.Event) tea.Cmd {
	viewing := false // the message's conversation is open in front of the user
	if msg, ok := ev.(phone.Message); ok {
		viewing = m.messages.Viewing(msg.Peer)
	}
	m.status.Update(ev)
	m.dialer.Update(ev)
	m.calls.Update(ev)
	m.messages.Update(ev)
	m.history.Update(ev)
	m.midcallEvent(ev)
	switch ev := ev.(type) {
	case phone.Message:
		return m.handleMessage(ev, viewing)
	case phone.CallStatus:
		if ev.State == phone.CallEnded {
			m.callEnded(ev.ID)
			delete(m.announced, ev.ID)
			if ev.ID == m.dtmfCall {
				m.dtmfPending = ""
			}
			return m.loadCalls()
		}
		if ev.Direction == phone.Incoming && ev.State == phone.CallIncoming && !m.announced[ev.ID] {
			m.announced[ev.ID] = true
			return notify.Cmd("dialtone", "Incoming call from "+common.Peer(ev.Peer, ev.PeerName))
		}
	case phone.PlaybackEnded:
		m.appendLogs(LogLine{Time: ev.Time, Level: "INFO", Text: "call " + ev.CallID + ": playback ended"})
	case phone.DTMFReceived:
		m.appendLogs(LogLine{Time: ev.Time, Level: "INFO", Text: "call " + ev.CallID + ": received DTMF " + string(ev.Digit)})
	case phone.MediaWarning:
		// The core logs it (talk.go), and its log reaches this pane: shown once.
	case phone.AudioDeviceLost:
		m.audioLost(ev) // audiolost.go
	case phone.Voicemail:
		m.appendLogs(LogLine{Time: ev.Time, Level: "INFO", Text: ev.Account + ": " + ev.Summary()})
	}
	return nil
}

func (m *Model) appendLogs(lines ...LogLine) {
	for _, l := range lines {
		m.ladderLine(l)
		m.log.Append(logLine(l))
	}
}

func logLine(l LogLine) logpane.Line {
	return logpane.Line{Time: l.Time, Level: l.Level, Text: l.Text, SIP: l.SIP}
}

// handleKey routes a key: a modal widget (the form, the quit question, the help overlay)
// takes everything; then a focused text field (the dialer, the messages pane's lines); then
// the global keys; then the focused pane.
func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.Keys
	switch {
	case m.form != nil:
		if msg.String() == "ctrl+c" {
			return m.requestQuit()
		}
		return m.form.Update(msg)
	case m.confirm.Active():
		return m.confirm.Update(msg)
	case m.showHelp:
		switch {
		case key.Matches(msg, k.Help), key.Matches(msg, k.Leave):
			m.showHelp = false
		case key.Matches(msg, k.Quit):
			m.showHelp = false
			return m.requestQuit()
		}
		return nil
	case m.dialer.Focused():
		// Only ctrl+c escapes the dialer: q and the other letters are text there.
		if msg.String() == "ctrl+c" {
			return m.requestQuit()
		}
		return m.dialer.Update(msg)
	case m.transfer.Active():
		// The same for the transfer line's target.
		if msg.String() == "ctrl+c" {
			return m.requestQuit()
		}
		return m.transfer.Update(msg)
	case m.messages.Typing():
		// The same for a message being written: only ctrl+c escapes, esc leaves the line.
		if msg.String() == "ctrl+c" {
			return m.requestQuit()
		}
		return m.messages.Update(msg)
	}
	if cmd, ok := m.ladderKey(msg); ok {
		return cmd
	}

	if cmd, ok := m.midcallKey(msg); ok {
		return cmd
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.requestQuit()
	case key.Matches(msg, k.Help):
		m.showHelp = true
	case key.Matches(msg, k.Dial):
		m.dialer.Focus()
		return m.reloadContacts()
	case key.Matches(msg, k.Messages):
		m.setFocus(paneMessages)
		return m.messages.SelectFirstUnread()
	case key.Matches(msg, k.Answer):
		if c, ok := m.calls.Ringing(); ok {
			p := m.phone
			return m.callCmd("answer", c.Status.ID, func() error { return p.Answer(c.Status.ID) })
		}
	case key.Matches(msg, k.Reject):
		if c, ok := m.calls.Ringing(); ok {
			p := m.phone
			return m.callCmd("reject", c.Status.ID, func() error { return p.Reject(c.Status.ID, RejectCode) })
		}
	case key.Matches(msg, k.Hangup):
		if c, ok := m.calls.Selected(); ok {
			p := m.phone
			return m.callCmd("hangup", c.Status.ID, func() error { return p.Hangup(c.Status.ID) })
		}
	case key.Matches(msg, k.Mute):
		if c, ok := m.calls.Answered(); ok {
			return m.muteCmd(c.Status.ID, !c.Status.Muted)
		}
	case key.Matches(msg, k.DTMF):
		if c, ok := m.calls.Answered(); ok {
			return m.sendDTMF(c.Status.ID, msg.String())
		}
	case isDigit(msg.String()):
		// No answered call: a digit starts dialling a number.
		m.dialer.Focus()
		return tea.Batch(m.dialer.Update(msg), m.reloadContacts())
	case key.Matches(msg, k.NextPane):
		m.setFocus((m.focus + 1) % nPanes)
	case key.Matches(msg, k.PrevPane):
		m.setFocus((m.focus + nPanes - 1) % nPanes)
	default:
		return m.focusedPane().Update(msg)
	}
	return nil
}

func isDigit(s string) bool { return len(s) == 1 && strings.Contains("0123456789", s) }

// requestQuit quits at once when no call is in progress, and asks first when one is: quitting
// hangs it up.
func (m *Model) requestQuit() tea.Cmd {
	if m.calls.Len() == 0 {
		return m.quit()
	}
	q := "A call is in progress. Hang up and quit?"
	if m.calls.Len() > 1 {
		q = "Calls are in progress. Hang them up and quit?"
	}
	m.confirm.Ask(q)
	return nil
}

// quit ends the program. Cancelling the subscription's context tells the phone to stop
// delivering; hanging up and unregistering are the caller's, after Run returns.
func (m *Model) quit() tea.Cmd {
	m.quitting = true
	m.cancel()
	return tea.Quit
}

func (m *Model) setFocus(p pane) {
	m.focus = p
	m.calls.SetFocused(p == paneCalls)
	m.messages.SetFocused(p == paneMessages)
	m.history.SetFocused(p == paneHistory)
	m.log.SetFocused(p == paneLog)
}

func (m *Model) focusedPane() common.Component {
	switch m.focus {
	case paneMessages:
		return m.messages
	case paneHistory:
		return m.history
	case paneLog:
		return m.log
	}
	return m.calls
}

// sync derives what follows from the state: the prompt's call, which keys are live (the help
// shows only those), and the layout (the status bar and the prompt change height).
func (m *Model) sync() {
	ringing, ok := m.calls.Ringing()
	if ok {
		others := -1
		for _, c := range m.calls.Calls() {
			if c.Status.Direction == phone.Incoming && c.Status.State == phone.CallIncoming {
				others++
			}
		}
		st := ringing.Status
		m.prompt.SetCall(&st, others)
		m.prompt.SetWaiting(m.waitingPrompt())
		hint := ""
		switch {
		case m.dialer.Focused():
			hint = "(esc leaves the dialer first)"
		case m.transfer.Active():
			hint = "(esc leaves the transfer first)"
		case m.messages.Typing():
			hint = "(esc leaves the message first)"
		case m.ladder.Active():
			hint = "(esc leaves the SIP ladder first)"
		}
		m.prompt.SetHint(hint)
	} else {
		m.prompt.SetCall(nil, 0)
	}
	_, answered := m.calls.Answered()
	_, selected := m.calls.Selected()
	k := m.c.Keys
	k.Answer.SetEnabled(ok)
	k.Reject.SetEnabled(ok)
	k.Hangup.SetEnabled(selected)
	k.Mute.SetEnabled(answered)
	k.DTMF.SetEnabled(answered)
	m.syncMidcall()
	m.messages.SetAccount(m.dialer.Account(), len(m.dialer.Accounts()) > 1)
	m.status.SetUnread(m.messages.Unread())
	m.relayout()
}
