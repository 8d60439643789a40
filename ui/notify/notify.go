// Package notify builds the escape sequences that get the user's attention when a call
// rings or a message arrives: the terminal bell and a desktop notification.
//
// Bubble Tea v2 owns the terminal, so nothing may write to os.Stdout behind its back; the
// sequences go out with tea.Raw, which the program writes into its output buffer between
// frames. (tea.Println would print above the program, and only outside the alt screen.)
package notify

import (
	"strings"
	"unicode"

	tea "charm.land/bubbletea/v2"
)

// maxLen bounds the notification text; terminals and notification daemons truncate anyway.
const maxLen = 200

// Sequence is BEL, OSC 9 (iTerm2, WezTerm, kitty, Windows Terminal, foot, Ghostty) and
// OSC 777 notify (rxvt-unicode, foot, Ghostty, VTE-based terminals). Terminals ignore
// the OSCs they do not know, so sending both is safe.
func Sequence(title, body string) string {
	title, body = clean(title), clean(body)
	// OSC 777 separates its fields with ';', so the title must not contain one (the body,
	// the last field, may).
	title777 := strings.ReplaceAll(title, ";", ",")
	// OSC 9 text that starts with "<digit>;" is a ConEmu / Windows Terminal command (9;4 is
	// the progress bar): prefix the title so a caller named "4;..." cannot trigger one.
	return "\a" +
		"\x1b]9;" + title + ": " + body + "\a" +
		"\x1b]777;notify;" + title777 + ";" + body + "\a"
}

// Cmd rings the bell and raises the notification.
func Cmd(title, body string) tea.Cmd { return tea.Raw(Sequence(title, body)) }

// clean removes control characters (ESC, BEL, C1 and the like): the display name of an
// incoming call is chosen by whoever calls, and one BEL or ST in it would end the OSC
// early and let the rest through to the terminal as commands.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > maxLen {
		s = string(r[:maxLen-1]) + "…"
	}
	return strings.TrimSpace(s)
}
