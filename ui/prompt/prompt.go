// Package prompt is the incoming-call banner: who is calling, on which account, and the
// keys to answer or reject.
package prompt

import (
	"strconv"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
)

// Model is the prompt. It shows nothing while no call rings.
type Model struct {
	c       *common.Common
	call    *phone.CallStatus
	others  int    // more calls ringing behind this one
	hint    string // e.g. that the dialer has the keyboard
	waiting bool   // another call is in progress: answering holds it
	width   int
}

var _ common.Component = (*Model)(nil)

// New returns a hidden prompt.
func New(c *common.Common) *Model { return &Model{c: c} }

// SetCall shows call (nil hides the prompt); others is how many more are ringing.
func (m *Model) SetCall(call *phone.CallStatus, others int) { m.call, m.others = call, others }

// SetHint adds a note after the keys. While the dialer has the keyboard, a and r are text, so
// the root model says so here rather than letting a half-typed name answer the call.
func (m *Model) SetHint(h string) { m.hint = h }

// SetWaiting says whether another call is in progress, which makes this one a waiting call:
// answering it puts the other on hold.
func (m *Model) SetWaiting(w bool) { m.waiting = w }

// Visible reports whether a call is being offered.
func (m *Model) Visible() bool { return m.call != nil }

// Update implements common.Component; the root model feeds the prompt through SetCall
// because which call rings is the calls list's knowledge.
func (m *Model) Update(tea.Msg) tea.Cmd { return nil }

// SetSize sets the width; the prompt's height is Height.
func (m *Model) SetSize(width, _ int) { m.width = width }

// Height is the prompt's height in lines, 0 when hidden.
func (m *Model) Height() int {
	if m.call == nil {
		return 0
	}
	return 4
}

// KeyBindings are answer and reject.
func (m *Model) KeyBindings() []key.Binding {
	k := m.c.Keys
	return []key.Binding{k.Answer, k.Reject}
}

// View draws a double-bordered box across the width.
func (m *Model) View() string {
	if m.call == nil || m.width < 10 {
		return ""
	}
	st := m.c.Styles
	inner := m.width - st.Prompt.GetHorizontalFrameSize()
	title := "Incoming call"
	if m.waiting {
		title = "Call waiting"
	}
	if m.call.Account != "" {
		title += " on " + common.Clean(m.call.Account)
	}
	if m.others > 0 {
		title += " (+" + strconv.Itoa(m.others) + " waiting)"
	}
	who := common.Peer(m.call.Peer, m.call.PeerName)
	line1 := st.PromptTitle.Render(title) + "  " + who
	k := m.c.Keys
	answer := k.Answer.Help().Desc
	if m.waiting {
		answer += " (holds the current call)"
	}
	line2 := st.PromptKey.Render(k.Answer.Help().Key) + " " + answer + "    " +
		st.PromptKey.Render(k.Reject.Help().Key) + " " + k.Reject.Help().Desc
	if m.hint != "" {
		line2 += "    " + st.FormHint.Render(m.hint)
	}
	body := common.PadRight(line1, inner) + "\n" + common.PadRight(line2, inner)
	return st.Prompt.Width(m.width).Render(body)
}
