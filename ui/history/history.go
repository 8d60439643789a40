// Package history lists finished calls (peer, direction, outcome, duration): this session's
// as they end, then those of earlier sessions when the root model hands them over from the
// caller's history (SetPast). Enter on an entry redials it.
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
	Started   time.Time // when it was placed or began ringing
	Ended     time.Time // zero for past calls, whose list shows when they started
	Target    string    // what the user typed to place it ("" for incoming calls)
}

// dupWindow is how far apart the start times of a session call and a past call may be for
// them to be the same call (the history store keeps microseconds; allow for rounding).
const dupWindow = 2 * time.Second

// Same reports whether two entries are the same call: the same peer and direction, started
// at the same moment. A call of this session is also in the persistent history once it ended.
func Same(a, b Entry) bool {
	if a.Started.IsZero() || b.Started.IsZero() || a.Direction != b.Direction ||
		common.PeerKey(a.Peer) != common.PeerKey(b.Peer) {
		return false
	}
	d := a.Started.Sub(b.Started)
	return d < dupWindow && d > -dupWindow
}

// Model is the history pane.
type Model struct {
	c          *common.Common
	entries    []Entry // this session's, newest first
	past       []Entry // from the persistent history, newest first
	all        []Entry // entries, then the past ones that are not among them
	persistent bool    // SetPast was called: the list is not only this session's
	typed      map[string]string
	selected   int
	focused    bool
	width      int
	height     int
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
	m.merge()
}

// SetPast hands over the calls of the persistent history, newest first. It may include this
// session's calls: those show once, as the session recorded them (they know what was typed
// to place them, for redialling).
func (m *Model) SetPast(es []Entry) {
	if len(es) > maxEntries {
		es = es[:maxEntries]
	}
	m.past = append([]Entry(nil), es...)
	m.persistent = true
	m.merge()
}

func (m *Model) merge() {
	prev, had := m.Selected()
	all := append(make([]Entry, 0, len(m.entries)+len(m.past)), m.entries...)
	for _, p := range m.past {
		dup := false
		for _, e := range m.entries {
			if Same(e, p) {
				dup = true
				break
			}
		}
		if !dup {
			all = append(all, p)
		}
	}
	if len(all) > maxEntries {
		all = all[:maxEntries]
	}
	m.all = all
	if had && (m.selected > 0 || m.focused) {
		// Rows added above the selection (a call that just ended, the persistent history
		// read again) must not slide another call under it: Enter would redial the wrong
		// person. Follow the entry itself, the top one too while the pane has the keyboard
		// (out of it, the top row stays the newest call).
		for i, e := range all {
			if sameEntry(e, prev) {
				m.selected = i
				break
			}
		}
	}
	m.selected = min(m.selected, max(0, len(all)-1))
}

// sameEntry reports whether a and b are the same row: this session's calls by their id,
// the persistent history's by Same, or field for field when they lack a start time.
func sameEntry(a, b Entry) bool {
	if a.CallID != "" || b.CallID != "" {
		return a.CallID == b.CallID
	}
	return a == b || Same(a, b)
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
			m.selected = min(max(0, len(m.all)-1), m.selected+1)
		case key.Matches(msg, k.Top):
			m.selected = 0
		case key.Matches(msg, k.Bottom):
			m.selected = max(0, len(m.all)-1)
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
	peer, name := s.Peer, s.PeerName
	if s.Dialled != "" { // redirected: the number dialled, as the history store keeps it
		peer, name = s.Dialled, ""
	}
	e := Entry{CallID: s.ID, Account: s.Account, Direction: s.Direction, Peer: peer, PeerName: name,
		Outcome: outcome, Good: good, Duration: s.Duration(), Started: s.Started, Ended: s.Ended, Target: m.typed[s.ID]}
	if e.Ended.IsZero() {
		e.Ended = s.Time
	}
	m.entries = append([]Entry{e}, m.entries...)
	if len(m.entries) > maxEntries {
		m.entries = m.entries[:maxEntries]
	}
	if !m.focused {
		// The newest call is what the user looks for on coming back to the pane; while the
		// user is in the pane on an older row, merge keeps that row selected.
		m.selected = 0
	}
	delete(m.typed, s.ID)
	m.merge()
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

// Entries returns the list as shown: this session's calls, newest first, then the earlier
// ones.
func (m *Model) Entries() []Entry { return append([]Entry(nil), m.all...) }

// Selected is the highlighted entry.
func (m *Model) Selected() (Entry, bool) {
	if m.selected < 0 || m.selected >= len(m.all) {
		return Entry{}, false
	}
	return m.all[m.selected], true
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
	if len(m.all) == 0 {
		if m.persistent {
			return st.Empty.Render(common.Truncate(" No calls yet.", m.width))
		}
		return st.Empty.Render(common.Truncate(" No calls yet this session.", m.width))
	}
	var rows []string
	first, last := common.VisibleRows(len(m.all), m.selected, m.height)
	for i := first; i < last; i++ {
		rows = append(rows, m.row(m.all[i], i == m.selected))
	}
	return strings.Join(rows, "\n")
}

// when is the time of day for today's calls and the date for older ones, in six cells.
func (m *Model) when(e Entry) string {
	t := e.Ended
	if t.IsZero() {
		t = e.Started
	}
	if t.IsZero() {
		return "      "
	}
	now := m.c.Now().In(t.Location())
	if t.Year() == now.Year() && t.YearDay() == now.YearDay() {
		return " " + t.Format("15:04")
	}
	return t.Format("Jan _2")
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
		st.Stat.Render(m.when(e))
	left := marker + dir + " "
	peerW := max(12, m.width-lipgloss.Width(left)-2-lipgloss.Width(right))
	line := common.PadRight(left+common.PadRight(common.Peer(e.Peer, e.PeerName), peerW)+"  "+right, m.width)
	if selected && m.focused {
		return st.RowSelected.Render(line)
	}
	return st.Row.Render(line)
}
