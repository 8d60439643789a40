// Package dialer is the one-line dial field: type a SIP URI, user@host, a bare number (the
// core completes it with the account's domain) or "echo", then Enter.
package dialer

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
	"github.com/dialtone/dialtone/ui/input"
)

// EchoTarget dials the built-in echo test, which needs no account.
const EchoTarget = "echo"

// maxHistory bounds the completion list.
const maxHistory = 200

// DialMsg asks the root model to place a call. The dialer only collects the text: parsing
// and completing it is the core's job.
type DialMsg struct {
	Account string // "" for the echo test (a direct call without an account)
	Target  string
}

// Model is the dialer.
type Model struct {
	c        *common.Common
	in       *input.Model
	accounts []string
	states   map[string]phone.RegState
	chosen   string    // account picked with ctrl+o; "" picks automatically
	history  []string  // dialled targets, most recent first, no duplicates
	contacts []Contact // the address book, for completion by name (contacts.go)
	width    int
}

var _ common.Component = (*Model)(nil)

// New returns a blurred dialer over the named accounts.
func New(c *common.Common, accounts []string) *Model {
	in := input.New(c)
	in.Prompt = "❯ "
	in.Placeholder = "press d, then a number, user@host, sip:… or echo"
	in.CharLimit = 512
	return &Model{c: c, in: in, accounts: append([]string(nil), accounts...), states: map[string]phone.RegState{}}
}

// Focus gives the dialer the keyboard.
func (m *Model) Focus() { m.in.Focus() }

// Blur takes it away.
func (m *Model) Blur() { m.in.Blur() }

// Focused reports whether the dialer has the keyboard.
func (m *Model) Focused() bool { return m.in.Focused() }

// Value is the text typed so far.
func (m *Model) Value() string { return m.in.Value() }

// SetValue fills the field (used by tests and redial-to-edit).
func (m *Model) SetValue(s string) { m.in.SetValue(s) }

// Remember adds a dialled target to the completion history.
func (m *Model) Remember(target string) {
	target = strings.TrimSpace(target)
	if target == "" {
		return
	}
	h := []string{target}
	for _, t := range m.history {
		if t != target && len(h) < maxHistory {
			h = append(h, t)
		}
	}
	m.history = h
	m.in.SetSuggestions(h)
}

// Accounts are the accounts calls and messages may go out on, in configuration order.
func (m *Model) Accounts() []string { return append([]string(nil), m.accounts...) }

// History is the completion list, most recent first.
func (m *Model) History() []string { return append([]string(nil), m.history...) }

// Account is the account a call goes out on: the one picked with ctrl+o, else the first
// registered one, else the first configured one; "" when there are none.
func (m *Model) Account() string {
	if m.chosen != "" {
		return m.chosen
	}
	for _, a := range m.accounts {
		if m.states[a] == phone.Registered {
			return a
		}
	}
	if len(m.accounts) > 0 {
		return m.accounts[0]
	}
	return ""
}

// Update handles registration changes (for the automatic account choice) and, while focused,
// the keyboard: Enter dials, Esc leaves, ctrl+o switches account, the rest edits.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case phone.Snapshot:
		for _, s := range msg.Accounts {
			m.setState(s)
		}
	case phone.AccountStatus:
		m.setState(msg)
	case tea.PasteMsg:
		return m.in.Update(msg)
	case tea.KeyPressMsg:
		if !m.Focused() {
			return nil
		}
		k := m.c.Keys
		switch {
		case key.Matches(msg, k.DialNow):
			return m.dial()
		case key.Matches(msg, k.Leave):
			m.Blur()
			return nil
		case key.Matches(msg, k.Account):
			m.NextAccount()
			return nil
		case key.Matches(msg, k.Complete) && m.completeContact():
			return nil
		}
		return m.in.Update(msg)
	}
	return nil
}

// setState records an account's state; an account the dialer has not heard of (added while
// running, by the first-run form) joins the choice.
func (m *Model) setState(s phone.AccountStatus) {
	if _, known := m.states[s.Account]; !known && !slices.Contains(m.accounts, s.Account) {
		m.accounts = append(m.accounts, s.Account)
	}
	m.states[s.Account] = s.State
}

func (m *Model) dial() tea.Cmd {
	target := strings.TrimSpace(m.in.Value())
	if target == "" {
		return nil
	}
	target = m.contactTarget(target)
	account := m.Account()
	if target == EchoTarget {
		account = ""
	}
	m.in.Reset()
	// Leaving the field after dialling puts h (hang up), m (mute) and the DTMF digits
	// straight under the user's fingers.
	m.Blur()
	msg := DialMsg{Account: account, Target: target}
	return func() tea.Msg { return msg }
}

// NextAccount switches to the next account (ctrl+o in the dialer and in the messages pane).
func (m *Model) NextAccount() {
	if len(m.accounts) == 0 {
		return
	}
	cur := m.Account()
	for i, a := range m.accounts {
		if a == cur {
			m.chosen = m.accounts[(i+1)%len(m.accounts)]
			return
		}
	}
	m.chosen = m.accounts[0]
}

// SetSize sets the width; the dialer is one line high.
func (m *Model) SetSize(width, _ int) { m.width = width }

// KeyBindings are the dialer's keys while it is focused.
func (m *Model) KeyBindings() []key.Binding {
	k := m.c.Keys
	bs := []key.Binding{k.DialNow, k.Complete, k.Leave}
	if len(m.accounts) > 1 {
		bs = append(bs, k.Account)
	}
	return bs
}

// View is " Dial ❯ text…   via account".
func (m *Model) View() string {
	st := m.c.Styles
	label := " " + st.DialerLabel.Render("Dial") + " "
	via := ""
	switch acc := m.Account(); {
	case strings.TrimSpace(m.in.Value()) == EchoTarget:
		via = "built-in echo test"
	case m.contactHint() != "":
		via = m.contactHint()
	case acc != "":
		via = "via " + common.Clean(acc)
	}
	if via != "" {
		via = "  " + st.DialerAccount.Render(via)
	}
	field := m.width - lipgloss.Width(label) - lipgloss.Width(via)
	if field < 12 { // too narrow for both: the field matters more
		via = ""
		field = m.width - lipgloss.Width(label)
	}
	m.in.SetWidth(field)
	return common.PadRight(label+common.PadRight(m.in.View(), field)+via, m.width)
}
