package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/dialtone/dialtone/ui/common"
	"github.com/dialtone/dialtone/ui/keys"
)

// wideWidth is where the log moves beside the other panes instead of below them.
const wideWidth = 120

// rect is a pane's outer size, border included.
type rect struct{ w, h int }

// geometry is where everything goes for the current size and state.
type geometry struct {
	statusH, promptH        int
	calls, msgs, hist, logs rect
	wide                    bool
}

// relayout computes the geometry and hands every component its size. It runs after every
// Update, because the status bar (accounts wrap) and the prompt (a call rings) change height.
//
// Wide terminals put calls, messages and history in a column with the log beside them, at
// fixed proportions. Narrower ones stack all four; messages, history and the log share what
// the calls leave, and the focused one of them gets the larger share, so the pane being used
// is never three lines high.
func (m *Model) relayout() geometry {
	w, h := max(m.width, 20), max(m.height, 8)
	var g geometry
	m.status.SetSize(w, 1)
	g.statusH = lipgloss.Height(m.status.View())
	m.dialer.SetSize(w, 1)
	m.transfer.SetSize(w, 1)
	m.prompt.SetSize(w, 4)
	g.promptH = m.prompt.Height()
	// status, dialer, prompt, panes, notice, help
	body := max(0, h-g.statusH-1-g.promptH-1-1)

	if w >= wideWidth {
		// Beside the log the left column is tall: give calls a quarter of it from the start, so
		// the pane does not jump as calls come and go.
		g.wide = true
		left := w * 3 / 5
		g.calls = rect{left, min(clamp(m.calls.Len()+2, body/4, body/2), body)}
		hs := split(body-g.calls.h, []int{3, 2})
		g.msgs, g.hist = rect{left, hs[0]}, rect{left, hs[1]}
		g.logs = rect{w - left, body}
	} else {
		g.calls = rect{w, min(clamp(m.calls.Len()+2, 4, max(4, body/3)), body)}
		weights := []int{1, 1, 1}
		switch m.focus {
		case paneMessages:
			weights[0] = 3
		case paneHistory:
			weights[1] = 3
		case paneLog:
			weights[2] = 3
		}
		hs := split(body-g.calls.h, weights)
		g.msgs, g.hist, g.logs = rect{w, hs[0]}, rect{w, hs[1]}, rect{w, hs[2]}
	}
	m.calls.SetSize(g.calls.w-2, g.calls.h-2)
	m.messages.SetSize(g.msgs.w-2, g.msgs.h-2)
	m.history.SetSize(g.hist.w-2, g.hist.h-2)
	m.log.SetSize(g.logs.w-2, g.logs.h-2)
	m.help.SetSize(w, h)
	m.confirm.SetSize(w, h)
	if m.form != nil {
		m.form.SetSize(w, h)
	}
	m.help.SetBindings(m.shortHelp(), fullHelp())
	return g
}

// minPane is the smallest pane worth drawing: a border and one line.
const minPane = 3

// split shares total rows by weight. A pane that would get less than minPane rows gets none
// and its rows go to the heaviest, so the screen stays exactly full.
func split(total int, weights []int) []int {
	out := make([]int, len(weights))
	sum, big := 0, 0
	for i, wt := range weights {
		sum += wt
		if wt > weights[big] {
			big = i
		}
	}
	given := 0
	for i, wt := range weights {
		out[i] = max(0, total) * wt / sum
		given += out[i]
	}
	out[big] += max(0, total) - given
	for i := range out {
		if i != big && out[i] < minPane {
			out[big] += out[i]
			out[i] = 0
		}
	}
	return out
}

func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }

// View draws the screen: status bar, dialer, prompt, panes, notice and help bar, with the
// add-account form, the quit question or the help composed on top.
func (m *Model) View() tea.View {
	g := m.relayout()
	w, h := max(m.width, 20), max(m.height, 8)

	line := m.dialer.View()
	if m.transfer.Active() {
		line = m.transfer.View() // in the dialer's place: one of the two has the keyboard
	}
	parts := []string{m.status.View(), line}
	if g.promptH > 0 {
		parts = append(parts, m.prompt.View())
	}
	callsBox := m.frame(m.calls.Title(), m.calls.View(), g.calls, m.focus == paneCalls)
	msgsBox := m.frame(m.messages.Title(), m.messages.View(), g.msgs, m.focus == paneMessages)
	histBox := m.frame(m.history.Title(), m.history.View(), g.hist, m.focus == paneHistory)
	logBox := m.frame(m.log.Title(), m.log.View(), g.logs, m.focus == paneLog)
	switch {
	case m.ladder.Active():
		parts = append(parts, m.ladderBox(rect{w, g.calls.h + g.msgs.h + g.hist.h + g.logs.h*btoi(!g.wide)}))
	case g.wide:
		parts = append(parts, lipgloss.JoinHorizontal(lipgloss.Top, joinNonEmpty(callsBox, msgsBox, histBox), logBox))
	default:
		parts = append(parts, joinNonEmpty(callsBox, msgsBox, histBox, logBox))
	}
	parts = append(parts, m.noticeView(w), m.help.View())
	screen := strings.Join(parts, "\n")

	switch {
	case m.form != nil:
		screen = overlay(screen, m.form.View(), w, h)
	case m.confirm.Active():
		screen = overlay(screen, m.confirm.View(), w, h)
	case m.showHelp:
		screen = overlay(screen, m.help.Overlay(), w, h)
	}

	v := tea.NewView(screen)
	v.AltScreen = true
	v.WindowTitle = m.windowTitle()
	return v
}

func (m *Model) frame(title, content string, r rect, focused bool) string {
	if r.h < 3 {
		return "" // no room: a pane with no inside is only noise
	}
	return common.Frame(m.c, title, content, r.w, r.h, focused)
}

func joinNonEmpty(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "\n")
}

func (m *Model) noticeView(w int) string {
	if m.notice == "" {
		return ""
	}
	st := m.c.Styles
	if m.noticeOK {
		return common.Truncate(" "+st.Notice.Render(m.notice), w)
	}
	return common.Truncate(" "+st.NoticeError.Render("✗ "+m.notice), w)
}

// windowTitle names the ringing caller, so a background terminal tab says who is calling,
// and otherwise counts the unread messages.
func (m *Model) windowTitle() string {
	if c, ok := m.calls.Ringing(); ok {
		return "dialtone: call from " + common.Peer(c.Status.Peer, c.Status.PeerName)
	}
	if n := m.messages.Unread(); n > 0 {
		return fmt.Sprintf("dialtone (%d unread)", n)
	}
	return "dialtone"
}

// overlay composes box centred over screen, using Lip Gloss v2's cell-based canvas so the
// styles of both survive.
func overlay(screen, box string, w, h int) string {
	bw, bh := lipgloss.Width(box), lipgloss.Height(box)
	x, y := max(0, (w-bw)/2), max(0, (h-bh)/2)
	// A Compositor places layers at their X/Y; composing a Layer straight onto a Canvas would
	// draw it over the whole canvas from the top-left corner.
	comp := lipgloss.NewCompositor(lipgloss.NewLayer(screen), lipgloss.NewLayer(box).X(x).Y(y).Z(1))
	return lipgloss.NewCanvas(w, h).Compose(comp).Render()
}

// shortHelp is the help bar: what works in the current mode. Disabled bindings (answer
// while nothing rings, ...) are left out by the help bubble itself.
func (m *Model) shortHelp() []key.Binding {
	k := m.c.Keys
	switch {
	case m.form != nil:
		return m.form.KeyBindings()
	case m.confirm.Active():
		return m.confirm.KeyBindings()
	case m.showHelp:
		return []key.Binding{k.Help, k.Leave}
	case m.dialer.Focused():
		return m.dialer.KeyBindings()
	case m.transfer.Active():
		return m.transfer.KeyBindings()
	case m.messages.Typing():
		return m.messages.KeyBindings()
	case m.ladder.Active():
		return m.ladder.KeyBindings()
	}
	bs := []key.Binding{k.Answer, k.Reject, k.Hangup, k.Mute, k.Hold, k.Swap, k.Transfer, k.DTMF, k.Dial}
	if m.focus != paneMessages && m.messages.Unread() > 0 {
		bs = append(bs, k.Messages) // the bar is short: t is offered when there is news
	}
	bs = append(bs, k.NextPane)
	switch m.focus {
	case paneMessages:
		bs = append(bs, k.Open, k.NewMessage)
	case paneHistory:
		bs = append(bs, k.Redial)
	}
	return fitHelp(append(bs, k.Help, k.Quit), m.width-1, []key.Binding{k.Swap, k.Transfer, k.NextPane, k.Dial, k.DTMF})
}

// fullHelp is the ? overlay: every binding, enabled or not, from a fresh keymap, so the
// overlay lists what the keys can do rather than only what they do this second.
func fullHelp() [][]key.Binding {
	k := keys.Default()
	return [][]key.Binding{
		{k.Dial, k.DialNow, k.Complete, k.Account, k.Leave},
		{k.Answer, k.Reject, k.Hangup, k.Mute, k.DTMF},
		{k.Hold, k.Swap, k.Transfer, k.PickCall, k.TransferNow, k.DND},
		{k.Messages, k.Open, k.NewMessage, k.Send, k.ScrollUp, k.ScrollDown},
		{k.NextPane, k.PrevPane, k.Up, k.Down, k.Redial, k.ToggleSIP, k.Ladder, k.Help, k.Quit},
	}
}
