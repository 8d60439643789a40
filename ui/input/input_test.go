package input

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dialtone/dialtone/ui/common"
	"github.com/dialtone/dialtone/ui/styles"
)

func press(m *Model, keys ...string) {
	for _, k := range keys {
		switch k {
		case "left":
			m.Update(tea.KeyPressMsg{Code: tea.KeyLeft})
		case "backspace":
			m.Update(tea.KeyPressMsg{Code: tea.KeyBackspace})
		case "tab":
			m.Update(tea.KeyPressMsg{Code: tea.KeyTab})
		case "down":
			m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
		case "ctrl+w":
			m.Update(tea.KeyPressMsg{Code: 'w', Mod: tea.ModCtrl})
		case "end":
			m.Update(tea.KeyPressMsg{Code: tea.KeyEnd})
		case "ctrl+u":
			m.Update(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl})
		default:
			for _, r := range k {
				m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
			}
		}
	}
}

func newInput() *Model {
	m := New(common.NewCommon(styles.New(true, true)))
	m.Focus()
	return m
}

func TestEditing(t *testing.T) {
	m := newInput()
	press(m, "sip:bob", "left", "left", "X", "backspace")
	if m.Value() != "sip:bob" {
		t.Errorf("value %q", m.Value())
	}
	press(m, "end", "@host", "ctrl+w")
	if m.Value() != "" {
		t.Errorf("ctrl+w left %q", m.Value())
	}
	press(m, "one two", "ctrl+w")
	if m.Value() != "one " {
		t.Errorf("ctrl+w left %q", m.Value())
	}
	m.Update(tea.PasteMsg{Content: "12\n34\x1b"})
	if m.Value() != "one 12 34" {
		t.Errorf("paste gave %q", m.Value())
	}
	m.Blur()
	press(m, "ignored")
	if m.Value() != "one 12 34" {
		t.Error("a blurred field took keys")
	}
}

func TestCompletion(t *testing.T) {
	m := newInput()
	m.SetSuggestions([]string{"sip:carol@x", "sip:bob@x", "sip:bert@x"})
	press(m, "tab")
	if m.Value() != "sip:carol@x" {
		t.Errorf("tab on empty field gave %q, want the most recent target", m.Value())
	}
	press(m, "ctrl+u", "sip:b")
	if m.Suggestion() != "sip:bob@x" {
		t.Errorf("suggestion %q", m.Suggestion())
	}
	press(m, "down", "tab")
	if m.Value() != "sip:bert@x" {
		t.Errorf("down, tab gave %q", m.Value())
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "sip:bert@x") {
		t.Errorf("view %q", v)
	}
}

func TestPasswordMasked(t *testing.T) {
	m := newInput()
	m.Echo = EchoPassword
	press(m, "hunter2")
	if v := ansi.Strip(m.View()); strings.Contains(v, "hunter2") || !strings.Contains(v, "•••••••") {
		t.Errorf("view %q", v)
	}
	if m.Value() != "hunter2" {
		t.Errorf("value %q", m.Value())
	}
}

func TestScrollsToCursor(t *testing.T) {
	m := newInput()
	m.SetWidth(10)
	press(m, "sip:someone@example.com")
	v := ansi.Strip(m.View())
	if !strings.Contains(v, ".com") || len([]rune(v)) > 10 {
		t.Errorf("view %q", v)
	}
}

// Emoji and CJK characters take two cells: the field scrolls by cells, so the cursor stays in
// view and the field never grows past its width.
func TestWideCharactersFit(t *testing.T) {
	m := New(common.NewCommon(styles.New(true, true)))
	m.Prompt = "❯ "
	m.SetWidth(12)
	m.Focus()
	for _, s := range []string{"🙂🙂🙂🙂🙂🙂🙂🙂", "中文字符中文字符中文", "é✓🚲aé✓🚲a"} {
		m.SetValue(s)
		for i := 0; i <= len([]rune(s)); i++ {
			v := m.View()
			if w := lipgloss.Width(v); w > 12 {
				t.Errorf("%q, cursor %d: %d cells: %q", s, m.pos, w, ansi.Strip(v))
			}
			if !strings.Contains(v, "\x1b[7m") {
				t.Errorf("%q, cursor %d: the cursor is out of view: %q", s, m.pos, ansi.Strip(v))
			}
			m.key(tea.KeyPressMsg{Code: tea.KeyLeft})
		}
	}
}

// TestPasteKeepsWordsApartAndSaysWhatDidNotFit: pasted lines become one line with spaces
// between them (they ran together: "see youtomorrow"); a byte limit counts UTF-8 bytes (4096
// characters of Cyrillic are 8192), and what did not fit is counted in Cut for the owner to say.
func TestPasteKeepsWordsApartAndSaysWhatDidNotFit(t *testing.T) {
	m := newInput()
	m.Update(tea.PasteMsg{Content: "see you\r\ntomorrow\tat\nnoon"})
	if m.Value() != "see you tomorrow at noon" || m.Cut != 0 {
		t.Fatalf("paste gave %q (cut %d)", m.Value(), m.Cut)
	}
	m.Reset()
	m.Update(tea.PasteMsg{Content: " pass word \r\n"}) // a password copied with its line end
	if m.Value() != " pass word " {
		t.Fatalf("a pasted line gave %q: its line end must go, its spaces stay", m.Value())
	}
	m.Reset()
	m.ByteLimit = 12
	m.Update(tea.PasteMsg{Content: "привет мир"}) // 19 bytes, 10 characters
	if got := m.Value(); got != "привет" || m.Cut != 4 {
		t.Fatalf("paste over the byte limit gave %q (%d bytes), cut %d; want привет (12 bytes), 4 cut", got, len(got), m.Cut)
	}
	press(m, "x")
	if m.Value() != "привет" || m.Cut != 1 {
		t.Fatalf("typing at the limit: %q, cut %d", m.Value(), m.Cut)
	}
	press(m, "backspace", "x")
	if m.Value() != "привеx" || m.Cut != 0 {
		t.Fatalf("typing after: %q, cut %d", m.Value(), m.Cut)
	}
}
