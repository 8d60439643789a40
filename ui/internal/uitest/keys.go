// Package uitest holds what the interface's tests in several packages share.
package uitest

import tea "charm.land/bubbletea/v2"

// named are the key presses Key knows by name.
var named = map[string]tea.KeyPressMsg{
	"enter":     {Code: tea.KeyEnter},
	"esc":       {Code: tea.KeyEscape},
	"tab":       {Code: tea.KeyTab},
	"space":     {Code: tea.KeySpace, Text: " "},
	"shift+tab": {Code: tea.KeyTab, Mod: tea.ModShift},
	"backspace": {Code: tea.KeyBackspace},
	"up":        {Code: tea.KeyUp},
	"down":      {Code: tea.KeyDown},
	"ctrl+c":    {Code: 'c', Mod: tea.ModCtrl},
	"ctrl+o":    {Code: 'o', Mod: tea.ModCtrl},
	"pgup":      {Code: tea.KeyPgUp},
	"pgdown":    {Code: tea.KeyPgDown},
}

// Key is the key press a test names: "enter", "esc", "tab", "space", "shift+tab",
// "backspace", "up", "down", "ctrl+c", "ctrl+o", "pgup", "pgdown", or one character. An
// unknown name panics, so a typo is not typed as its first letter.
func Key(k string) tea.KeyPressMsg {
	if m, ok := named[k]; ok {
		return m
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("uitest.Key: unknown key " + k)
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}
