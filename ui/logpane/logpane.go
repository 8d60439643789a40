// Package logpane shows the log and the SIP trace: the newest lines at the bottom, following
// new output unless the user has scrolled up.
package logpane

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/dialtone/dialtone/ui/common"
)

// maxLines bounds the scrollback: a SIP trace grows without end.
const maxLines = 5000

// Line is one log line. SIP trace messages are several lines long; each is stored apart.
type Line struct {
	Time  time.Time
	Level string
	Text  string
	SIP   bool
}

// Model is the log pane.
type Model struct {
	c       *common.Common
	lines   []Line
	offset  int // lines scrolled up from the bottom; 0 follows new output
	hideSIP bool
	focused bool
	width   int
	height  int
}

var _ common.Component = (*Model)(nil)

// New returns an empty log pane.
func New(c *common.Common) *Model { return &Model{c: c} }

// Append adds lines. Multi-line text (a SIP message) is split so scrolling counts screen lines.
func (m *Model) Append(ls ...Line) {
	for _, l := range ls {
		for _, t := range strings.Split(strings.TrimRight(l.Text, "\r\n"), "\n") {
			x := l
			x.Text = common.Clean(strings.TrimRight(t, "\r"))
			m.lines = append(m.lines, x)
			if m.offset > 0 && (!x.SIP || !m.hideSIP) {
				m.offset++ // keep the user's place while they read
			}
		}
	}
	if over := len(m.lines) - maxLines; over > 0 {
		m.lines = append([]Line(nil), m.lines[over:]...)
		if m.offset > 0 {
			// The lines the user was reading may be among those trimmed: the place counted
			// for them is gone, so stop at the oldest lines kept (as Top does).
			m.offset = max(0, min(m.offset, len(m.visible())-m.height))
		}
	}
}

// Update scrolls and toggles the SIP trace while focused.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok || !m.focused {
		return nil
	}
	k := m.c.Keys
	visible := len(m.visible())
	switch {
	case key.Matches(km, k.Up):
		m.offset++
	case key.Matches(km, k.Down):
		m.offset--
	case key.Matches(km, k.Top):
		m.offset = visible
	case key.Matches(km, k.Bottom):
		m.offset = 0
	case key.Matches(km, k.ToggleSIP):
		m.hideSIP = !m.hideSIP
		m.offset = 0
	}
	m.offset = max(0, min(m.offset, visible-m.height))
	return nil
}

func (m *Model) visible() []Line {
	if !m.hideSIP {
		return m.lines
	}
	out := make([]Line, 0, len(m.lines))
	for _, l := range m.lines {
		if !l.SIP {
			out = append(out, l)
		}
	}
	return out
}

// Len is the number of stored lines.
func (m *Model) Len() int { return len(m.lines) }

// SetFocused tells the pane whether it has the keyboard.
func (m *Model) SetFocused(f bool) { m.focused = f }

// SetSize sets the cells inside the pane's border.
func (m *Model) SetSize(width, height int) { m.width, m.height = width, height }

// KeyBindings are the pane's keys.
func (m *Model) KeyBindings() []key.Binding {
	k := m.c.Keys
	return []key.Binding{k.Up, k.Down, k.Bottom, k.ToggleSIP}
}

// Title is the pane's title; it says when the SIP trace is hidden or the view is scrolled.
func (m *Model) Title() string {
	t := "Log"
	if m.hideSIP {
		t += " (SIP hidden)"
	}
	if m.offset > 0 {
		t += " ↑"
	}
	return t
}

// View draws the visible window of lines.
func (m *Model) View() string {
	st := m.c.Styles
	ls := m.visible()
	if len(ls) == 0 {
		return st.Empty.Render(common.Truncate(" Nothing logged yet.", m.width))
	}
	// Append and Update keep offset in range; clamping here as well means a slip there
	// shows the wrong lines rather than panicking: View runs even while the pane is hidden.
	end := max(0, min(len(ls), len(ls)-m.offset))
	start := max(0, end-m.height)
	if m.height <= 0 {
		start = 0
	}
	rows := make([]string, 0, end-start)
	for _, l := range ls[start:end] {
		rows = append(rows, m.row(l))
	}
	return strings.Join(rows, "\n")
}

func (m *Model) row(l Line) string {
	st := m.c.Styles
	ts := "        "
	if !l.Time.IsZero() {
		ts = l.Time.Format(time.TimeOnly)
	}
	level, style := levelLabel(l.Level), st.LogInfo
	switch level {
	case "DBG":
		style = st.LogDebug
	case "WRN":
		style = st.LogWarn
	case "ERR":
		style = st.LogError
	}
	if l.SIP {
		level, style = "SIP", st.LogSIP
	}
	prefix := " " + st.LogTime.Render(ts) + " " + style.Render(level) + " "
	return common.Truncate(prefix+style.Render(l.Text), m.width)
}

// levelLabel shortens slog's level names to three letters so the text column lines up.
func levelLabel(level string) string {
	switch strings.ToUpper(level) {
	case "DEBUG", "DBG":
		return "DBG"
	case "WARN", "WARNING", "WRN":
		return "WRN"
	case "ERROR", "ERR":
		return "ERR"
	}
	return "INF"
}
