// Package confirm is a yes/no question in a box over the screen (quitting during a call).
package confirm

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/dialtone/dialtone/ui/common"
)

// ResultMsg is the user's answer.
type ResultMsg struct {
	Yes bool
}

// Model is the question.
type Model struct {
	c        *common.Common
	question string
	active   bool
	width    int
}

var _ common.Component = (*Model)(nil)

// New returns an inactive question box.
func New(c *common.Common) *Model { return &Model{c: c} }

// Ask shows the question.
func (m *Model) Ask(question string) { m.question, m.active = question, true }

// Active reports whether the question waits for an answer.
func (m *Model) Active() bool { return m.active }

// Update takes y or n (Esc counts as n); every other key is ignored so a stray keystroke
// cannot answer for the user.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok || !m.active {
		return nil
	}
	var yes bool
	switch {
	case key.Matches(km, m.c.Keys.Yes):
		yes = true
	case key.Matches(km, m.c.Keys.No):
	default:
		return nil
	}
	m.active = false
	return func() tea.Msg { return ResultMsg{Yes: yes} }
}

// SetSize sets the space the box is centred in.
func (m *Model) SetSize(width, _ int) { m.width = width }

// KeyBindings are y and n.
func (m *Model) KeyBindings() []key.Binding { return []key.Binding{m.c.Keys.Yes, m.c.Keys.No} }

// View is the box (the root model centres it).
func (m *Model) View() string {
	st := m.c.Styles
	body := st.OverlayTitle.Render(m.question) + "\n\n" +
		st.PromptKey.Render("y") + " yes    " + st.PromptKey.Render("n") + " no"
	w := min(max(30, len([]rune(m.question))+4), max(10, m.width-2))
	return st.Overlay.Width(w).Render(body)
}
