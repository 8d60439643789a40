// Package common is what the softphone's widgets share: the Component contract, the styles
// and keymap they render with, the clock, and small text helpers.
package common

import (
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/dialtone/dialtone/ui/keys"
	"github.com/dialtone/dialtone/ui/styles"
)

// Component is one widget of the screen. The root model owns the components, routes
// messages to them and lays them out; a component never reaches for its siblings.
// Components are pointers: Update changes them in place and returns any follow-up command.
type Component interface {
	Update(msg tea.Msg) tea.Cmd
	View() string
	// SetSize gives the component the cells it may draw in (borders are the root's business).
	SetSize(width, height int)
	// KeyBindings are the component's own bindings, for the help bar and overlay.
	KeyBindings() []key.Binding
}

// Common is shared by every component. It is a pointer so a background-colour change,
// which swaps Styles, reaches everyone at once.
type Common struct {
	Styles *styles.Styles
	Keys   *keys.KeyMap
	// Now is the clock for call timers; tests fix it so golden screens stay stable.
	Now func() time.Time
}

// NewCommon returns a Common with the default keymap and the wall clock.
func NewCommon(st *styles.Styles) *Common {
	return &Common{Styles: st, Keys: keys.Default(), Now: time.Now}
}
