// Package input is a one-line text field with history completion, used by the dialer and
// the first-run form.
//
// bubbles/v2's textinput would do, but it imports github.com/atotto/clipboard, which is not
// in this module's go.sum; a dialer needs a small subset of it anyway (no clipboard, no
// validation, no blinking cursor), so this is that subset.
package input

import (
	"strings"
	"unicode"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/dialtone/dialtone/ui/common"
)

// EchoMode says how the value is shown.
type EchoMode int

// Echo modes.
const (
	EchoNormal   EchoMode = 0
	EchoPassword EchoMode = 1 // every character shown as '•'
)

// Model is the field's state.
type Model struct {
	c           *common.Common
	Prompt      string
	Placeholder string
	Echo        EchoMode
	CharLimit   int // 0: no limit
	// ByteLimit bounds the text's UTF-8 bytes (0: no limit): what an instant message counts, where
	// 4096 characters of Cyrillic are 8192 bytes.
	ByteLimit int
	// Cut is how many characters the last insertion (a paste, most likely) could not take, for
	// the owner to say so; 0 when all fitted.
	Cut int

	value   []rune
	pos     int // cursor, in runes
	focused bool
	width   int // cells for prompt + text; 0: unlimited

	suggestions []string // completion candidates, best first
	match       int      // which matching candidate Tab would accept
}

// New returns an empty, blurred field.
func New(c *common.Common) *Model { return &Model{c: c} }

// Value is the text typed so far.
func (m *Model) Value() string { return string(m.value) }

// SetValue replaces the text and puts the cursor at its end.
func (m *Model) SetValue(s string) {
	m.value, m.pos = nil, 0
	m.insert(s)
	m.Cut = 0
}

// Reset empties the field.
func (m *Model) Reset() { m.SetValue("") }

// Focus gives the field the keyboard.
func (m *Model) Focus() { m.focused = true }

// Blur takes the keyboard away.
func (m *Model) Blur() { m.focused = false }

// Focused reports whether the field has the keyboard.
func (m *Model) Focused() bool { return m.focused }

// SetWidth limits the field (prompt included) to w cells.
func (m *Model) SetWidth(w int) { m.width = w }

// SetSuggestions sets the completion candidates, best (most recent) first.
func (m *Model) SetSuggestions(s []string) {
	m.suggestions = s
	m.match = 0
}

// matches are the candidates that extend the current value.
func (m *Model) matches() []string {
	v := string(m.value)
	var out []string
	for _, s := range m.suggestions {
		if len(s) > len(v) && strings.HasPrefix(s, v) {
			out = append(out, s)
		}
	}
	return out
}

// Suggestion is the completion Tab would accept, "" when there is none.
func (m *Model) Suggestion() string {
	ms := m.matches()
	if len(ms) == 0 {
		return ""
	}
	return ms[m.match%len(ms)]
}

// Update handles a key or a paste while the field is focused. It returns no command: the
// field never needs one.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if !m.focused {
		return nil
	}
	switch msg := msg.(type) {
	case tea.PasteMsg:
		m.insert(msg.Content)
	case tea.KeyPressMsg:
		m.key(msg)
	}
	return nil
}

func (m *Model) key(msg tea.KeyPressMsg) {
	switch msg.String() {
	case "left", "ctrl+b":
		m.pos = max(0, m.pos-1)
	case "right", "ctrl+f":
		m.pos = min(len(m.value), m.pos+1)
	case "home", "ctrl+a":
		m.pos = 0
	case "end", "ctrl+e":
		m.pos = len(m.value)
	case "backspace", "ctrl+h":
		if m.pos > 0 {
			m.value = append(m.value[:m.pos-1], m.value[m.pos:]...)
			m.pos--
		}
		m.match = 0
	case "delete", "ctrl+d":
		if m.pos < len(m.value) {
			m.value = append(m.value[:m.pos], m.value[m.pos+1:]...)
		}
		m.match = 0
	case "ctrl+u":
		m.value = append([]rune(nil), m.value[m.pos:]...)
		m.pos = 0
		m.match = 0
	case "ctrl+k":
		m.value = m.value[:m.pos]
		m.match = 0
	case "ctrl+w", "alt+backspace":
		i := m.pos
		for i > 0 && unicode.IsSpace(m.value[i-1]) {
			i--
		}
		for i > 0 && !unicode.IsSpace(m.value[i-1]) {
			i--
		}
		m.value = append(m.value[:i], m.value[m.pos:]...)
		m.pos = i
		m.match = 0
	case "tab":
		if s := m.Suggestion(); s != "" {
			m.SetValue(s)
		}
	case "down", "ctrl+n":
		m.match++
	case "up", "ctrl+p":
		if n := len(m.matches()); n > 0 {
			m.match = (m.match - 1 + n) % n
		}
	default:
		if msg.Text != "" && msg.Mod&^tea.ModShift == 0 {
			m.insert(msg.Text)
		}
	}
}

func (m *Model) insert(s string) {
	r := []rune(sanitize(s))
	want := len(r)
	if m.CharLimit > 0 && len(m.value)+len(r) > m.CharLimit {
		r = r[:max(0, m.CharLimit-len(m.value))]
	}
	if m.ByteLimit > 0 {
		room := m.ByteLimit - len(string(m.value))
		for i, c := range r {
			if room -= utf8.RuneLen(c); room < 0 {
				r = r[:i]
				break
			}
		}
	}
	m.Cut = want - len(r)
	v := make([]rune, 0, len(m.value)+len(r))
	v = append(v, m.value[:m.pos]...)
	v = append(v, r...)
	v = append(v, m.value[m.pos:]...)
	m.value = v
	m.pos += len(r)
	m.match = 0
}

// sanitize keeps one line of printable text: pasted newlines and control characters would
// end up in a SIP URI or a config file. A line break or a tab between words becomes a space
// (CRLF one), so that pasted lines do not run into each other ("see you" and "tomorrow"); the
// line ending a pasted line goes (a password copied with it must not gain a space); other
// control characters go.
func sanitize(s string) string {
	s = strings.Trim(strings.ReplaceAll(s, "\r\n", "\n"), "\r\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

// View draws the prompt, the text with the cursor, and (focused, cursor at the end) the rest
// of the suggested completion.
func (m *Model) View() string {
	st := m.c.Styles.Input
	prompt := m.Prompt
	avail := m.width - lipgloss.Width(prompt)
	if m.width <= 0 {
		avail = 1 << 30
	}
	if avail < 2 {
		return common.Truncate(prompt, m.width)
	}
	shown := m.value
	if m.Echo == EchoPassword {
		shown = []rune(strings.Repeat("•", len(m.value)))
	}
	if len(m.value) == 0 && m.Placeholder != "" && !m.focused {
		return prompt + st.Placeholder.Render(common.Truncate(m.Placeholder, avail))
	}
	textStyle := st.Text
	if !m.focused {
		textStyle = st.Blurred
		return prompt + textStyle.Render(common.Truncate(string(shown), avail))
	}
	// Scroll so the cursor (one cell past the text at the end) stays in view. Widths are
	// counted in cells, not runes: an emoji or a CJK character takes two.
	cursorW := 1
	if m.pos < len(shown) {
		cursorW = max(1, cells(shown[m.pos:m.pos+1]))
	}
	start := 0
	for start < m.pos && cells(shown[start:m.pos])+cursorW > avail {
		start++
	}
	end, used := m.pos, cells(shown[start:m.pos])
	for end < len(shown) && used+cells(shown[end:end+1]) <= avail {
		used += cells(shown[end : end+1])
		end++
	}
	before := string(shown[start:m.pos])
	var out strings.Builder
	out.WriteString(prompt)
	out.WriteString(textStyle.Render(before))
	if m.pos < len(shown) {
		out.WriteString(st.Cursor.Render(string(shown[m.pos])))
		out.WriteString(textStyle.Render(string(shown[m.pos+1 : max(m.pos+1, end)])))
		return out.String()
	}
	rest := ""
	if s := m.Suggestion(); s != "" && m.Echo == EchoNormal {
		rest = string([]rune(s)[len(m.value):])
	}
	room := avail - cells(shown[start:m.pos])
	if rest == "" {
		out.WriteString(st.Cursor.Render(" "))
		if len(m.value) == 0 && m.Placeholder != "" {
			out.WriteString(st.Placeholder.Render(common.Truncate(m.Placeholder, avail-1)))
		}
		return out.String()
	}
	r := []rune(rest)
	out.WriteString(st.Cursor.Render(string(r[0])))
	if room > 1 && len(r) > 1 {
		out.WriteString(st.Suggestion.Render(common.Truncate(string(r[1:]), room-1)))
	}
	return out.String()
}

// cells is how many terminal cells the runes take.
func cells(r []rune) int { return lipgloss.Width(string(r)) }
