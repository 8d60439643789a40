// Package helpview renders the key bindings: a one-line bar at the bottom and the full
// overlay behind ?. Both come from the bindings themselves (bubbles/v2 help), so the help
// cannot drift from what the keys do.
package helpview

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/dialtone/dialtone/ui/common"
)

// Model is the help bar and overlay.
type Model struct {
	c      *common.Common
	h      help.Model
	short  []key.Binding
	groups [][]key.Binding
	width  int
	height int
}

var _ common.Component = (*Model)(nil)

// New returns the help view.
func New(c *common.Common) *Model {
	h := help.New()
	return &Model{c: c, h: h}
}

// SetBindings sets what the bar and the overlay show; the root model recomputes them as the
// focus and the calls change.
func (m *Model) SetBindings(short []key.Binding, groups [][]key.Binding) {
	m.short, m.groups = short, groups
}

// Update implements common.Component; help has no state of its own to update.
func (m *Model) Update(tea.Msg) tea.Cmd { return nil }

// SetSize sets the width of the bar and the space the overlay may use.
func (m *Model) SetSize(width, height int) { m.width, m.height = width, height }

// KeyBindings are the keys that open and close the overlay.
func (m *Model) KeyBindings() []key.Binding { return []key.Binding{m.c.Keys.Help} }

func (m *Model) model() help.Model {
	h := m.h
	h.Styles = m.c.Styles.Help
	return h
}

// View is the one-line bar.
func (m *Model) View() string {
	h := m.model()
	h.SetWidth(m.width - 1)
	return " " + h.ShortHelpView(m.short)
}

// Overlay is the full help in a box. The groups sit side by side as far as the screen is
// wide, then continue below.
func (m *Model) Overlay() string {
	h := m.model()
	st := m.c.Styles
	maxW := m.width - st.Overlay.GetHorizontalFrameSize()
	var blocks []string
	var row [][]key.Binding
	for _, g := range m.groups {
		next := append(append([][]key.Binding(nil), row...), g)
		if len(row) > 0 && m.width > 0 && lipgloss.Width(h.FullHelpView(next)) > maxW {
			blocks = append(blocks, h.FullHelpView(row))
			next = [][]key.Binding{g}
		}
		row = next
	}
	if len(row) > 0 {
		blocks = append(blocks, h.FullHelpView(row))
	}
	body := st.OverlayTitle.Render("Keys") + "\n\n" + strings.Join(blocks, "\n\n") + "\n\n" +
		st.FormHint.Render("? or esc closes this help")
	return st.Overlay.Render(body)
}
