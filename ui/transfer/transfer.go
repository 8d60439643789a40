// Package transfer is the transfer line, shown in the dialer's place while the user transfers
// a call: type a target and press Enter for a blind transfer (REFER), or pick another of the
// calls in progress with the arrows for an attended one (REFER with Replaces).
package transfer

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
	"github.com/dialtone/dialtone/ui/input"
)

// BlindMsg asks the root model to transfer CallID to Target (what the user typed; the core
// parses and completes it as it does a dialled target).
type BlindMsg struct{ CallID, Target string }

// AttendedMsg asks the root model to transfer CallID to the party of OtherID, one of our
// other calls.
type AttendedMsg struct{ CallID, OtherID string }

// Model is the transfer line. It is inactive (and draws nothing) until Open.
type Model struct {
	c      *common.Common
	in     *input.Model
	call   phone.CallStatus   // the call being transferred
	others []phone.CallStatus // the other calls, candidates for an attended transfer
	pick   int                // index into others; -1 while the typed target counts
	active bool
	width  int
}

var _ common.Component = (*Model)(nil)

// New returns an inactive transfer line.
func New(c *common.Common) *Model {
	in := input.New(c)
	in.Prompt = "❯ "
	in.Placeholder = "number, user@host or sip:…"
	in.CharLimit = 512
	return &Model{c: c, in: in, pick: -1}
}

// Open starts transferring call; others are the calls it may be joined with.
func (m *Model) Open(call phone.CallStatus, others []phone.CallStatus) {
	m.call, m.active, m.pick = call, true, -1
	m.in.Reset()
	m.in.Focus()
	m.SetOthers(others)
}

// SetOthers updates the candidates as calls come and go; a picked call that ended is
// forgotten rather than silently replaced by another.
func (m *Model) SetOthers(others []phone.CallStatus) {
	var picked string
	if m.pick >= 0 && m.pick < len(m.others) {
		picked = m.others[m.pick].ID
	}
	m.others, m.pick = others, -1
	for i, o := range others {
		if o.ID == picked {
			m.pick = i
		}
	}
}

// Close hides the line.
func (m *Model) Close() {
	m.active = false
	m.in.Blur()
	m.in.Reset()
}

// Active reports whether a transfer is being set up.
func (m *Model) Active() bool { return m.active }

// CallID is the call being transferred.
func (m *Model) CallID() string { return m.call.ID }

// Picked is the other call chosen for an attended transfer.
func (m *Model) Picked() (phone.CallStatus, bool) {
	if m.pick < 0 || m.pick >= len(m.others) {
		return phone.CallStatus{}, false
	}
	return m.others[m.pick], true
}

// Update takes the keyboard while active: Enter transfers, Esc cancels, the arrows step
// through the other calls (and back to the typed target), everything else edits the target.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if !m.active {
		return nil
	}
	switch msg := msg.(type) {
	case tea.PasteMsg:
		m.pick = -1
		return m.in.Update(msg)
	case tea.KeyPressMsg:
		k := m.c.Keys
		switch {
		case key.Matches(msg, k.TransferNow):
			return m.submit()
		case key.Matches(msg, k.Leave):
			m.Close()
			return nil
		case key.Matches(msg, k.PickCall):
			m.step(msg.String() == "down")
			return nil
		}
		m.pick = -1 // typing means a blind transfer again
		return m.in.Update(msg)
	}
	return nil
}

// step moves the pick through -1 (the typed target), 0 … len(others)-1 and round.
func (m *Model) step(down bool) {
	n := len(m.others) + 1
	i := m.pick + 1
	if down {
		i = (i + 1) % n
	} else {
		i = (i - 1 + n) % n
	}
	m.pick = i - 1
}

func (m *Model) submit() tea.Cmd {
	id := m.call.ID
	if o, ok := m.Picked(); ok {
		m.Close()
		return func() tea.Msg { return AttendedMsg{CallID: id, OtherID: o.ID} }
	}
	target := m.in.Value()
	if len([]rune(target)) == 0 {
		return nil
	}
	m.Close()
	return func() tea.Msg { return BlindMsg{CallID: id, Target: target} }
}

// SetSize sets the width; the line is one line high.
func (m *Model) SetSize(width, _ int) { m.width = width }

// KeyBindings are the line's keys; the arrows only when there is another call to pick.
func (m *Model) KeyBindings() []key.Binding {
	k := m.c.Keys
	bs := []key.Binding{k.TransferNow}
	if len(m.others) > 0 {
		bs = append(bs, k.PickCall)
	}
	return append(bs, k.Leave)
}

// View is " Transfer Bob to ❯ target…" or, with a call picked, " Transfer Bob to ⇄ Carol".
func (m *Model) View() string {
	if !m.active {
		return ""
	}
	st := m.c.Styles
	label := " " + st.DialerLabel.Render("Transfer") + " " + common.Peer(m.call.Peer, m.call.PeerName) + " to "
	label = common.Truncate(label, max(10, m.width/2))
	field := max(0, m.width-lipgloss.Width(label))
	if o, ok := m.Picked(); ok {
		who := "⇄ " + common.Peer(o.Peer, o.PeerName) + st.DialerAccount.Render(" (attended)")
		return common.PadRight(label+common.Truncate(who, field), m.width)
	}
	m.in.SetWidth(field)
	return common.PadRight(label+common.PadRight(m.in.View(), field), m.width)
}
