package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// The SIP ladder pane (ui/ladder): L opens it over the panes; while open it takes every key
// but ctrl+c, and Esc closes it. It is fed every SIP trace line that reaches the log pane,
// whether the log shows SIP or not (s), so the ladder is complete when it is opened.

// ladderKey handles a key while the ladder is open, or L; ok is false for any other key.
func (m *Model) ladderKey(msg tea.KeyPressMsg) (cmd tea.Cmd, ok bool) {
	if m.ladder.Active() {
		if msg.String() == "ctrl+c" {
			return m.requestQuit(), true
		}
		return m.ladder.Update(msg), true
	}
	if key.Matches(msg, m.c.Keys.Ladder) {
		m.ladder.Open()
		return nil, true
	}
	return nil, false
}

// ladderLine records a SIP trace line in the ladder.
func (m *Model) ladderLine(l LogLine) {
	if l.SIP {
		m.ladder.Add(l.Time, l.Text)
	}
}

// ladderBox is the ladder framed in the panes' place (r is their whole area).
func (m *Model) ladderBox(r rect) string {
	m.ladder.SetSize(r.w-2, r.h-2)
	return m.frame(m.ladder.Title(), m.ladder.View(), r, true)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
