// Package history lists this session's finished calls (peer, direction, outcome, duration);
// Enter on an entry redials it.
package history

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
)

// maxEntries bounds the session's history on screen.
const maxEntries = 500

// RedialMsg asks the root model to call an entry again.
type RedialMsg struct {
	Account string
	Target  string
}

// Entry is one finished call.
type Entry struct {
	CallID    string
	Account   string
	Direction phone.Direction
	Peer      string // URI
	PeerName  string
	Outcome   string
	Good      bool // answered: shown as success
	Duration  time.Duration
	Ended     time.Time
	Target    string // what the user typed to place it ("" for incoming calls)
}

// Model is the history pane.
type Model struct {
	c        *common.Common
	entries  []Entry // newest first
	typed    map[string]string
	selected int
	focused  bool
	width    int
	height   int
}

var _ common.Component = (*Model)(nil)

// New returns an empty history.
func New(c *common.Common) *Model { return &Model{c: c, typed: map[string]string{}} }

// Dialled records what the user typed to place call id, so a redial of "echo" or of a bare
// number dials that again rather than the URI it resolved to (the echo peer's address is
// gone once the call ends).
func (m *Model) Dialled(id, target string) {
	m.typed[id] = target
	for i := range m.entries {
		if m.entries[i].CallID == id {
			m.entries[i].Target = target
		}
	}
}

// Update adds ended calls and, while focused, moves the selection and redials.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case phone.CallStatus:
		if msg.State == phone.CallEnded {
			m.add(msg)
		}
	case tea.KeyPressMsg:
		if !m.focused {
			return nil
		}
		k := m.c.Keys
		switch {
		case key.Matches(msg, k.Up):
			m.selected = max(0, m.selected-1)
		case key.Matches(msg, k.Down):
			m.selected = min(max(0, len(m.entries)-1), m.selected+1)
		case key.Matches(msg, k.Top):
			m.selected = 0
		case key.Matches(msg, k.Bottom):
			m.selected = max(0, len(m.entries)-1)
		case key.Matches(msg, k.Redial):
			return m.redial()
		}
	}
	return nil
}

func (m *Model) add(s phone.CallStatus) {
	for _, e := range m.entries {
		if e.CallID == s.ID {
			return // the core publishes one end per call; stay idempotent regardless
		}
	}
	outcome, good := Outcome(s)
	e := Entry{CallID: s.ID, Account: s.Account, Direction: s.Direction, Peer: s.Peer, PeerName: s.PeerName,
		Outcome: outcome, Good: good, Duration: s.Duration(), Ended: s.Ended, Target: m.typed[s.ID]}
	if e.Ended.IsZero() {
		e.Ended = s.Time
	}
	m.entries = append([]Entry{e}, m.entries...)
	if len(m.entries) > maxEntries {
		m.entries = m.entries[:maxEntries]
	}
	m.selected = 0
	delete(m.typed, s.ID)
}

func (m *Model) redial() tea.Cmd {
	e, ok := m.Selected()
	if !ok {
		return nil
	}
	msg := RedialMsg{Account: e.Account, Target: e.Target}
	if msg.Target == "" {
		msg.Target = e.Peer
	}
	return func() tea.Msg { return msg }
}

// Entries returns the history, newest first.
func (m *Model) Entries() []Entry { return append([]Entry(nil), m.entries...) }

// Selected is the highlighted entry.
func (m *Model) Selected() (Entry, bool) {
	if m.selected < 0 || m.selected >= len(m.entries) {
		return Entry{}, false
	}
	return m.entries[m.selected], true
}

// Outcome says in a word or two how a call ended, and whether that counts as success.
func Outcome(s phone.CallStatus) (string, bool) {
	switch {
	case !s.Answered.IsZero():
		return "answered", true
	case s.Direction == phone.Incoming && s.By == "local":
		return "rejected", false
	case s.Direction == phone.Incoming:
		return "missed", false
	case s.Failure != phone.NoFailure:
		out := strings.ReplaceAll(s.Failure.String(), "_", " ")
		if s.Code != 0 {
			out += fmt.Sprintf(" (%d)", s.Code)
		}
		return out, false
	case s.By == "local":
		return "cancelled", false
	case s.Code != 0:
		return fmt.Sprintf("failed (%d)", s.Code), false
	}
	return "failed", false
}

// SetFocused tells the pane whether it has the keyboard.
func (m *Model) SetFocused(f bool) { m.focused = f }

// SetSize sets the cells inside the pane's border.
func (m *Model) SetSize(width, height int) { m.width, m.height = width, height }

// KeyBindings are the pane's keys.
func (m *Model) KeyBindings() []key.Binding {
	k := m.c.Keys
	return []key.Binding{k.Up, k.Down, k.Redial}
}

// Title is the pane's title.
func (m *Model) Title() string { return "History" }

// View draws one row per call, newest first, scrolled to keep the selection visible.
func (m *Model) View() string {
	st := m.c.Styles
	if len(m.entries) == 0 {
		return st.Empty.Render(common.Truncate(" No calls yet this session.", m.width))
	}
	first := 0
	if m.height > 0 && m.selected >= m.height {
		first = m.selected - m.height + 1
	}
	var rows []string
	for i := first; i < len(m.entries) && (m.height <= 0 || len(rows) < m.height); i++ {
		rows = append(rows, m.row(m.entries[i], i == m.selected))
	}
	return strings.Join(rows, "\n")
}

func (m *Model) row(e Entry, selected bool) string {
	st := m.c.Styles
	marker := "  "
	if selected && m.focused {
		marker = "▸ "
	}
	dir := "→"
	if e.Direction == phone.Incoming {
		dir = "←"
	}
	outStyle := st.OutcomeBad
	if e.Good {
		outStyle = st.OutcomeOK
	}
	dur := "     "
	if e.Good {
		dur = common.Clock(e.Duration)
	}
	right := outStyle.Render(fmt.Sprintf("%-15s", common.Truncate(e.Outcome, 15))) + " " + dur + "  " +
		st.Stat.Render(e.Ended.Format("15:04"))
	left := marker + dir + " "
	peerW := max(12, m.width-lipgloss.Width(left)-2-lipgloss.Width(right))
	line := common.PadRight(left+common.PadRight(common.Peer(e.Peer, e.PeerName), peerW)+"  "+right, m.width)
	if selected && m.focused {
		return st.RowSelected.Render(line)
	}
	return st.Row.Render(line)
}
