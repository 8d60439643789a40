// Package statusbar draws the top line(s): the product name, the number of unread messages,
// and every account's registration state, with the reason when registration failed.
package statusbar

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
)

// Model is the status bar.
type Model struct {
	c       *common.Common
	version string
	order   []string // account names, in configuration order
	status  map[string]phone.AccountStatus
	mailbox map[string]phone.Voicemail // what each account's server says waits (RFC 3842)
	unread  int
	dnd     bool
	width   int
}

var _ common.Component = (*Model)(nil)

// New returns a status bar for the named accounts (their order is kept on screen).
func New(c *common.Common, version string, accounts []string) *Model {
	return &Model{c: c, version: version, order: append([]string(nil), accounts...), status: map[string]phone.AccountStatus{},
		mailbox: map[string]phone.Voicemail{}}
}

// Update records registration changes.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case phone.Snapshot:
		for _, s := range msg.Accounts {
			m.set(s)
		}
		for _, v := range msg.Voicemail {
			m.mailbox[v.Account] = v
		}
	case phone.AccountStatus:
		m.set(msg)
	case phone.Voicemail:
		m.mailbox[msg.Account] = msg
	}
	return nil
}

func (m *Model) set(s phone.AccountStatus) {
	if _, ok := m.status[s.Account]; !ok && !slices.Contains(m.order, s.Account) {
		m.order = append(m.order, s.Account)
	}
	m.status[s.Account] = s
}

// Status returns an account's last known state.
func (m *Model) Status(account string) (phone.AccountStatus, bool) {
	s, ok := m.status[account]
	return s, ok
}

// SetUnread sets the number of unread messages shown after the name (0 shows nothing).
func (m *Model) SetUnread(n int) { m.unread = n }

// SetDND shows (or hides) that do-not-disturb turns new calls away.
func (m *Model) SetDND(on bool) { m.dnd = on }

// SetSize sets the width; the height follows from the content (chips wrap).
func (m *Model) SetSize(width, _ int) { m.width = width }

// KeyBindings implements common.Component: the bar has none.
func (m *Model) KeyBindings() []key.Binding { return nil }

// View lays the chips out left to right and wraps them onto more lines when the terminal is
// too narrow, so no account's state is ever cut off.
func (m *Model) View() string {
	st := m.c.Styles
	brand := st.Brand.Render("dialtone")
	if m.version != "" {
		brand += " " + st.AccountIdle.Render(common.Clean(m.version))
	}
	chips := []string{brand}
	if m.unread > 0 {
		chips = append(chips, st.Unread.Render(fmt.Sprintf("✉ %d unread", m.unread)))
	}
	if m.dnd {
		chips = append(chips, st.Unread.Render("⊘ do not disturb"))
	}
	if len(m.order) == 0 {
		chips = append(chips, st.AccountIdle.Render("no accounts: dial echo to test your audio"))
	}
	for _, name := range m.order {
		chips = append(chips, m.chip(name))
		if vm := m.voicemailChip(name); vm != "" {
			chips = append(chips, vm) // a chip of its own: a long failure reason never cuts it off
		}
	}
	w := m.width
	if w <= 0 {
		return st.StatusBar.Render(strings.Join(chips, "  "))
	}
	var lines []string
	line := ""
	for _, ch := range chips {
		ch = common.Truncate(ch, w-1)
		switch {
		case line == "":
			line = " " + ch
		case lipgloss.Width(line)+2+lipgloss.Width(ch) <= w:
			line += "  " + ch
		default:
			lines = append(lines, line)
			line = " " + ch
		}
	}
	lines = append(lines, line)
	for i := range lines {
		lines[i] = st.StatusBar.Render(common.PadRight(lines[i], w))
	}
	return strings.Join(lines, "\n")
}

// voicemailChip says that voicemail waits for an account, with the account's name when there
// are several; "" when none waits.
func (m *Model) voicemailChip(name string) string {
	v, ok := m.mailbox[name]
	if !ok || !v.Waiting {
		return ""
	}
	text := "☎ voicemail"
	if v.Counted && v.New > 0 {
		text = fmt.Sprintf("☎ %d new voicemail", v.New)
	}
	if len(m.order) > 1 {
		text += " (" + common.Clean(name) + ")"
	}
	return m.c.Styles.Unread.Render(text)
}

// chip is one account: a symbol and a word for the state (so it reads without colour), and
// for failures the reason and when the next attempt is due.
func (m *Model) chip(name string) string {
	st := m.c.Styles
	s, ok := m.status[name]
	name = common.Clean(name)
	if !ok {
		return st.AccountIdle.Render("○ " + name + " unknown")
	}
	switch s.State {
	case phone.Registered:
		return st.AccountOK.Render("● " + name + " registered")
	case phone.Registering:
		return st.AccountBusy.Render("◌ " + name + " registering")
	case phone.RegFailed:
		return st.AccountFailed.Render("✗ "+name+" failed") + st.Reason.Render(": "+Reason(s))
	case phone.Recovering:
		// Busy, not failed: the phone is already registering again on a new connection.
		return st.AccountBusy.Render("◌ "+name+" recovering") + st.Reason.Render(": "+common.Clean(s.Reason))
	}
	return st.AccountIdle.Render("○ " + name + " unregistered")
}

// Reason says why registration failed: the response, the kind of failure, and the time of the
// next attempt. An absolute time rather than a countdown, because a countdown would need a
// ticking clock while the phone is otherwise idle. The time keeps the event's location (the
// phone's clock is local time).
func Reason(s phone.AccountStatus) string {
	var parts []string
	switch {
	case s.Code != 0 && s.Reason != "":
		parts = append(parts, fmt.Sprintf("%d %s", s.Code, s.Reason))
	case s.Code != 0:
		parts = append(parts, fmt.Sprint(s.Code))
	case s.Reason != "":
		parts = append(parts, s.Reason)
	case s.Err != nil:
		parts = append(parts, s.Err.Error())
	}
	if s.Failure != phone.NoFailure {
		parts = append(parts, "("+strings.ReplaceAll(s.Failure.String(), "_", " ")+")")
	}
	switch {
	case s.RetryIn > 0 && !s.Time.IsZero():
		parts = append(parts, "next try "+s.Time.Add(s.RetryIn).Format(time.TimeOnly))
	case s.RetryIn > 0:
		parts = append(parts, "next try in "+s.RetryIn.String())
	default:
		parts = append(parts, "stopped")
	}
	return common.Clean(strings.Join(parts, " "))
}
