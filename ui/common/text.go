package common

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Clean makes text that came from the network or from logs safe to draw: display names,
// URIs, SIP reasons and trace lines are attacker-controlled, and an ESC or C1 byte in them
// would let a caller rewrite the user's terminal. Tabs become spaces; other control
// characters become U+FFFD so they stay visible. While the TUI draws code point by code point
// (SetFit), a grapheme cluster drawn at another width than measured is shown by its first
// code point (fitClusters); line output (headless, contacts) keeps the text as it came.
func Clean(s string) string {
	s = cleanControls(s)
	if fit.Load() {
		s = fitClusters(s)
	}
	return s
}

func cleanControls(s string) string {
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

// fit: text is drawn by the TUI, whose renderer counts cells code point by code point
// (wcwidth) until the terminal says it lays out grapheme clusters whole (mode 2027, which
// Bubble Tea asks about at start; its renderer then measures clusters as lipgloss does).
var fit atomic.Bool

// SetFit says whether Clean fits clusters to a renderer that counts cells code point by code
// point: the TUI sets it when it starts and clears it when the terminal reports mode 2027.
func SetFit(on bool) { fit.Store(on) }

// fitClusters replaces each grapheme cluster that lipgloss and a code-point-by-code-point
// terminal would measure differently by its first code point, which both measure alike, or by
// U+FFFD: a family of ZWJ-joined emoji (2 cells measured, 6 drawn), a skin tone (2 and 4), an
// emoji variation selector (❤️: 2 and 1), a lone regional indicator (2 and 1). Measured wrong,
// a display name or a message pushed the rest of its row out of place and broke the frame. A
// code point kept can join the cluster after it (a Hangul leading jamo, a prepended mark), so
// passes repeat until none changes anything; text that still does not settle has every
// non-ASCII code point shown as U+FFFD, which joins nothing.
func fitClusters(s string) string {
	for range maxFitPasses {
		out, changed := fitPass(s)
		if !changed {
			return out
		}
		s = out
	}
	return strings.Map(func(r rune) rune {
		if r >= utf8.RuneSelf {
			return '\uFFFD'
		}
		return r
	}, s)
}

// maxFitPasses bounds fitClusters' passes; each replaces at least one cluster of two or more
// code points by one, or one code point by U+FFFD, so hostile text cannot make it loop long.
const maxFitPasses = 8

// fitPass is one pass of fitClusters, and whether it replaced anything.
func fitPass(s string) (string, bool) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s, false
	}
	var b strings.Builder
	changed := false
	for rest := s; rest != ""; {
		c, w := ansi.FirstGraphemeCluster(rest, ansi.GraphemeWidth)
		if c == "" { // not reached for valid input; never loop forever
			c = rest[:1]
		}
		rest = rest[len(c):]
		if w == ansi.StringWidthWc(c) {
			b.WriteString(c)
			continue
		}
		changed = true
		r, _ := utf8.DecodeRuneInString(c)
		if one := string(r); len(one) < len(c) && ansi.StringWidth(one) == ansi.StringWidthWc(one) {
			b.WriteString(one)
		} else {
			b.WriteRune('\uFFFD')
		}
	}
	return b.String(), changed
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
