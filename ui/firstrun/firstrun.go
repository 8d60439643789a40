// Package firstrun is the add-account form shown when there is no configuration file. It only
// collects the answers; the caller's Save writes the file (mode 0600), so the UI never
// learns the configuration format.
package firstrun

import (
	"errors"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/dialtone/dialtone/ui/common"
	"github.com/dialtone/dialtone/ui/input"
)

// Account is what the form collects. Exactly one password source is set.
type Account struct {
	Name, AOR, AuthUser, Registrar, Transport string
	PasswordEnv, PasswordCmd, PasswordPlain   string
}

// SaveFunc writes the account (the caller's config writer).
type SaveFunc func(Account) error

// DoneMsg says the form is finished: saved, or skipped with Esc.
type DoneMsg struct {
	Saved   bool
	Account string // the saved account's name
}

// savedMsg carries Save's result back into the event loop.
type savedMsg struct {
	err     error
	account string
}

// Password sources, in the order the choice cycles through them.
const (
	sourceTyped = 0
	sourceEnv   = 1
	sourceCmd   = 2
)

var (
	transports = []string{"udp", "tcp", "tls"}
	sources    = []string{"type it here (stored in a 0600 file)", "environment variable", "command (password_cmd)"}
)

// Field indices.
const (
	fName = iota
	fAOR
	fAuthUser
	fRegistrar
	fTransport
	fSource
	fSecret
	nFields
)

// Model is the form.
type Model struct {
	c          *common.Common
	configPath string
	save       SaveFunc
	texts      [nFields]*input.Model // nil for the choice fields
	transport  int
	source     int
	focus      int
	err        string
	saving     bool
	width      int
	height     int
}

var _ common.Component = (*Model)(nil)

// New returns the form, focused on its first field.
func New(c *common.Common, configPath string, save SaveFunc) *Model {
	m := &Model{c: c, configPath: configPath, save: save}
	mk := func(placeholder string) *input.Model {
		in := input.New(c)
		in.Placeholder = placeholder
		in.CharLimit = 256
		return in
	}
	m.texts[fName] = mk("e.g. work")
	m.texts[fAOR] = mk("sip:alice@example.com")
	m.texts[fAuthUser] = mk("optional: the AOR's user")
	m.texts[fRegistrar] = mk("optional: host[:port], else the AOR's domain")
	m.texts[fSecret] = mk("")
	m.texts[fSecret].Echo = input.EchoPassword
	m.setFocus(0)
	return m
}

func (m *Model) setFocus(i int) {
	m.focus = (i + nFields) % nFields
	for j, in := range m.texts {
		if in == nil {
			continue
		}
		if j == m.focus {
			in.Focus()
		} else {
			in.Blur()
		}
	}
}

func (m *Model) secretLabel() string {
	switch m.source {
	case sourceEnv:
		return "Variable"
	case sourceCmd:
		return "Command"
	}
	return "Password"
}

// Update handles the keyboard and Save's result.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case savedMsg:
		m.saving = false
		if msg.err != nil {
			m.err = "could not save: " + msg.err.Error()
			return nil
		}
		// The password has been handed to Save; do not keep it in memory any longer.
		m.texts[fSecret].Reset()
		done := DoneMsg{Saved: true, Account: msg.account}
		return func() tea.Msg { return done }
	case tea.PasteMsg:
		if in := m.texts[m.focus]; in != nil {
			in.Update(msg)
		}
	case tea.KeyPressMsg:
		if m.saving {
			return nil
		}
		k := m.c.Keys
		choice := m.texts[m.focus] == nil
		switch {
		case key.Matches(msg, k.Skip):
			m.texts[fSecret].Reset()
			return func() tea.Msg { return DoneMsg{} }
		case key.Matches(msg, k.Submit):
			if m.focus == fSecret {
				return m.submit()
			}
			m.setFocus(m.focus + 1)
		case key.Matches(msg, k.NextField):
			m.setFocus(m.focus + 1)
		case key.Matches(msg, k.PrevField):
			m.setFocus(m.focus - 1)
		case choice && key.Matches(msg, k.Cycle):
			step := 1
			if msg.String() == "left" {
				step = -1
			}
			if m.focus == fTransport {
				m.transport = (m.transport + step + len(transports)) % len(transports)
			} else {
				m.source = (m.source + step + len(sources)) % len(sources)
				// The old value meant something else (a password is not a variable name).
				m.texts[fSecret].Reset()
				m.texts[fSecret].Echo = input.EchoNormal
				if m.source == sourceTyped {
					m.texts[fSecret].Echo = input.EchoPassword
				}
			}
		case !choice:
			m.texts[m.focus].Update(msg)
		}
	}
	return nil
}

// Account returns the answers as they stand.
func (m *Model) Account() Account {
	v := func(i int) string { return strings.TrimSpace(m.texts[i].Value()) }
	a := Account{Name: v(fName), AOR: v(fAOR), AuthUser: v(fAuthUser), Registrar: v(fRegistrar), Transport: transports[m.transport]}
	switch m.source {
	case sourceEnv:
		a.PasswordEnv = v(fSecret)
	case sourceCmd:
		a.PasswordCmd = v(fSecret)
	default:
		a.PasswordPlain = m.texts[fSecret].Value() // a password may begin or end with spaces
	}
	return a
}

// validate catches what the user can fix here; the caller's Save checks the rest.
func validate(a Account) error {
	switch {
	case a.Name == "":
		return errors.New("give the account a name")
	case strings.ContainsAny(a.Name, " \t\"'"):
		return errors.New("the name may not contain spaces or quotes")
	case !strings.Contains(a.AOR, "@"):
		return errors.New("the address must look like sip:user@domain")
	case a.PasswordEnv == "" && a.PasswordCmd == "" && a.PasswordPlain == "":
		return errors.New("say where the password comes from")
	}
	return nil
}

func (m *Model) submit() tea.Cmd {
	a := m.Account()
	if err := validate(a); err != nil {
		m.err = err.Error()
		return nil
	}
	if m.save == nil {
		m.err = "saving is not available"
		return nil
	}
	m.err = ""
	m.saving = true
	save := m.save
	// Save writes a file: run it off the event loop.
	return func() tea.Msg { return savedMsg{err: save(a), account: a.Name} }
}

// SetSize sets the space the form is centred in.
func (m *Model) SetSize(width, height int) { m.width, m.height = width, height }

// KeyBindings are the form's keys.
func (m *Model) KeyBindings() []key.Binding {
	k := m.c.Keys
	return []key.Binding{k.NextField, k.PrevField, k.Cycle, k.Submit, k.Skip}
}

// View is the form in a box.
func (m *Model) View() string {
	st := m.c.Styles
	boxW := min(74, max(30, m.width-2))
	inner := boxW - st.Overlay.GetHorizontalFrameSize()
	const labelW = 15
	fieldW := max(8, inner-labelW-2)
	labels := [nFields]string{"Name", "Address", "Auth user", "Registrar", "Transport", "Password from", m.secretLabel()}
	var rows []string
	for i := 0; i < nFields; i++ {
		ls := st.FormLabel
		mark := "  "
		if i == m.focus {
			ls, mark = st.FormFocused, "▸ "
		}
		var field string
		switch i {
		case fTransport:
			field = m.choiceView(transports, m.transport, i == m.focus)
		case fSource:
			field = m.choiceView(sources, m.source, i == m.focus)
		default:
			m.texts[i].SetWidth(fieldW)
			field = m.texts[i].View()
		}
		rows = append(rows, common.Truncate(mark+ls.Render(common.PadRight(labels[i], labelW))+field, inner))
	}
	intro := "No configuration file yet. Add your SIP account" +
		" (or press esc to go on with only the echo test)."
	if m.configPath != "" {
		intro += " It will be saved to " + m.configPath + "."
	}
	body := st.OverlayTitle.Render("Add an account") + "\n\n" +
		lipgloss.NewStyle().Width(inner).Render(st.FormHint.Render(intro)) + "\n\n" +
		strings.Join(rows, "\n")
	switch {
	case m.saving:
		body += "\n\n" + st.FormHint.Render("saving…")
	case m.err != "":
		body += "\n\n" + st.FormError.Render(common.Truncate(m.err, inner))
	default:
		body += "\n\n" + st.FormHint.Render("tab next field · ←/→ change choice · enter on the last field saves")
	}
	return st.Overlay.Width(boxW).Render(body)
}

// choiceView shows the chosen option where a text field's value would be, and while focused
// the keys that change it.
func (m *Model) choiceView(options []string, selected int, focused bool) string {
	s := options[selected]
	if focused {
		return s + m.c.Styles.FormHint.Render("  ←/→")
	}
	return s
}
