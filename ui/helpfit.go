package ui

import (
	"slices"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// helpSep is what the help bubble puts between two bindings in the bar.
const helpSep = " • "

// fitHelp drops bindings from the help bar, in the order given by expendable, until the
// enabled ones fit in width; the bubble would otherwise cut the end off, and the end is
// where "? help" and "q quit" are. The ? overlay still lists everything.
func fitHelp(bs []key.Binding, width int, expendable []key.Binding) []key.Binding {
	for _, drop := range expendable {
		if helpWidth(bs) <= width {
			break
		}
		bs = slices.DeleteFunc(bs, func(b key.Binding) bool { return b.Enabled() && sameBinding(b, drop) })
	}
	return bs
}

func helpWidth(bs []key.Binding) int {
	w, n := 0, 0
	for _, b := range bs {
		if !b.Enabled() {
			continue
		}
		w += lipgloss.Width(b.Help().Key) + 1 + lipgloss.Width(b.Help().Desc)
		n++
	}
	if n > 1 {
		w += (n - 1) * lipgloss.Width(helpSep)
	}
	return w
}

func sameBinding(a, b key.Binding) bool {
	return a.Help() == b.Help() && slices.Equal(a.Keys(), b.Keys())
}
