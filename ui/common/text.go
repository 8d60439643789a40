package common

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Clean makes text that came from the network or from logs safe to draw: display names,
// URIs, SIP reasons and trace lines are attacker-controlled, and an ESC or C1 byte in them
// would let a caller rewrite the user's terminal. Tabs become spaces; other control
// characters become U+FFFD so they stay visible.
func Clean(s string) string {
	clean := true
	for _, r := range s {
		if unicode.IsControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteString("    ")
		case unicode.IsControl(r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Truncate shortens a (possibly styled) single line to width cells, ending with "…".
func Truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	return ansi.Truncate(s, width, "…")
}

// PadRight truncates or pads a (possibly styled) line to exactly width cells.
func PadRight(s string, width int) string {
	s = Truncate(s, width)
	if w := lipgloss.Width(s); w < width {
		s += strings.Repeat(" ", width-w)
	}
	return s
}

// Clock formats a call duration as mm:ss, or h:mm:ss from an hour on.
func Clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

// Peer is how a call's other party is shown: the display name when there is one, then the
// address without the "sip:" scheme and URI parameters, which only add noise on screen.
func Peer(uri, name string) string {
	addr := strings.TrimPrefix(strings.TrimPrefix(uri, "sips:"), "sip:")
	if i := strings.IndexAny(addr, ";?"); i >= 0 {
		addr = addr[:i]
	}
	addr = Clean(addr)
	name = Clean(strings.TrimSpace(name))
	if name == "" || name == addr {
		return addr
	}
	return name + " <" + addr + ">"
}

// VisibleRows returns the half-open range [first, last) of n rows to draw in height lines so
// that the selected row stays visible (height 0 means no limit).
func VisibleRows(n, selected, height int) (first, last int) {
	if height > 0 && selected >= height {
		first = selected - height + 1
	}
	last = n
	if height > 0 {
		last = min(n, first+height)
	}
	return first, last
}
