// Package calls is the list of calls in progress: peer, direction, state, a running timer
// for answered calls, codec, and live MOS, loss and jitter from the media statistics (with
// sparklines of loss and jitter under the selected call).
package calls

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
)

// maxDigits is how many DTMF digits (sent or received) a row remembers.
const maxDigits = 12

// Call is one call as the list shows it.
type Call struct {
	Status   phone.CallStatus
	Stats    *phone.StreamStats // nil until the first report
	Sent     string             // DTMF digits we sent, the latest last
	Received string             // DTMF digits the far end sent
	// NoAudio is set by a media warning (nothing arrives from the far end) and cleared when
	// packets arrive again; noAudioAt is the received count at the warning.
	NoAudio   bool
	noAudioAt uint64
	// held records a successful Hold (true) or Resume (false) until the core's next status
	// for the call says otherwise, as SetMuted does for mute.
	held  bool
	trend trend // recent loss and jitter for the sparklines (quality.go)
}

// Live reports whether the call has not ended.
func (c *Call) Live() bool { return c.Status.State != phone.CallEnded }

// Model is the calls pane.
type Model struct {
	c        *common.Common
	calls    []*Call // in order of appearance
	selected int
	focused  bool
	width    int
	height   int

	// pick is a call Select named before it appeared: Dial's answer may beat its first status.
	pick string
}

var _ common.Component = (*Model)(nil)

// New returns an empty list.
func New(c *common.Common) *Model { return &Model{c: c} }

func (m *Model) find(id string) (int, *Call) {
	for i, c := range m.calls {
		if c.Status.ID == id {
			return i, c
		}
	}
	return -1, nil
}

// Update follows call, statistics and DTMF events, and moves the selection while focused.
// An ended call leaves the list (the history pane keeps it).
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case phone.CallStatus:
		i, c := m.find(msg.ID)
		switch {
		case msg.State == phone.CallEnded:
			if c != nil {
				m.calls = append(m.calls[:i], m.calls[i+1:]...)
				if m.selected >= i && m.selected > 0 {
					m.selected--
				}
			}
		case c == nil:
			had := len(m.calls)
			m.calls = append(m.calls, &Call{Status: msg, held: statusHolding(msg)})
			// A call ringing in while the user talks must not take the selection from the
			// call talked to (hang-up, hold, transfer); answering or dialling selects it.
			if m.selected < 0 || m.selected >= had || msg.ID == m.pick {
				m.selected = len(m.calls) - 1
				m.pick = ""
			}
		default:
			c.Status = msg
			c.held = statusHolding(msg)
		}
	case phone.MediaStats:
		if _, c := m.find(msg.CallID); c != nil {
			st := msg.Stats
			c.Stats = &st
			c.trend.add(st, c.Holding() || c.RemoteHolding())
			if c.NoAudio && st.PacketsReceived > c.noAudioAt {
				c.NoAudio = false
			}
		}
	case phone.MediaWarning:
		if _, c := m.find(msg.CallID); c != nil {
			c.NoAudio = true
			if c.Stats != nil {
				c.noAudioAt = c.Stats.PacketsReceived
			}
		}
	case phone.DTMFReceived:
		if _, c := m.find(msg.CallID); c != nil {
			c.Received = tail(c.Received + string(msg.Digit))
		}
	case tea.KeyPressMsg:
		if !m.focused {
			return nil
		}
		k := m.c.Keys
		switch {
		case key.Matches(msg, k.Up):
			m.selected = max(0, m.selected-1)
		case key.Matches(msg, k.Down):
			m.selected = min(max(0, len(m.calls)-1), m.selected+1)
		}
	}
	return nil
}

func tail(s string) string {
	if r := []rune(s); len(r) > maxDigits {
		return string(r[len(r)-maxDigits:])
	}
	return s
}

// Len is the number of calls in progress.
func (m *Model) Len() int { return len(m.calls) }

// Calls returns the calls in progress, in order of appearance.
func (m *Model) Calls() []Call {
	out := make([]Call, len(m.calls))
	for i, c := range m.calls {
		out[i] = *c
	}
	return out
}

// Selected is the call the keys act on.
func (m *Model) Selected() (Call, bool) {
	if m.selected < 0 || m.selected >= len(m.calls) {
		return Call{}, false
	}
	return *m.calls[m.selected], true
}

// Select moves the selection to the call with this id, or to that call when it appears.
func (m *Model) Select(id string) {
	m.pick = ""
	if i, _ := m.find(id); i >= 0 {
		m.selected = i
	} else {
		m.pick = id
	}
}

// Ringing is the oldest incoming call still waiting for an answer: the one the prompt shows.
func (m *Model) Ringing() (Call, bool) {
	for _, c := range m.calls {
		if c.Status.Direction == phone.Incoming && c.Status.State == phone.CallIncoming {
			return *c, true
		}
	}
	return Call{}, false
}

// Answered is the call DTMF digits go to: the selected call if it is answered and not on
// hold, else the first such call.
func (m *Model) Answered() (Call, bool) {
	if c, ok := m.Selected(); ok && c.Talking() {
		return c, true
	}
	for _, c := range m.calls {
		if c.Talking() {
			return *c, true
		}
	}
	return Call{}, false
}

// Talking reports whether the call is answered and not on hold (by us or by them).
func (c *Call) Talking() bool {
	return c.Status.State == phone.CallAnswered && !c.Holding() && !c.RemoteHolding()
}

// InCall reports whether the call was answered and has not ended: talking or on hold.
func (c *Call) InCall() bool { return c.Live() && !c.Status.Answered.IsZero() || c.Talking() }

// SetHeld records a successful hold or resume (see Call.held).
func (m *Model) SetHeld(id string, held bool) {
	if _, c := m.find(id); c != nil {
		c.held = held
	}
}

// HasAnswered reports whether any call is answered (on hold or not): only then does the
// timer tick.
func (m *Model) HasAnswered() bool {
	for _, c := range m.calls {
		if c.InCall() {
			return true
		}
	}
	return false
}

// SetMuted records a successful mute or unmute. The core also publishes it in the call's
// status; recording the command's success as well keeps the screen right with a core (or an
// adapter) that does not.
func (m *Model) SetMuted(id string, muted bool) {
	if _, c := m.find(id); c != nil {
		c.Status.Muted = muted
	}
}

// AddSent records DTMF digits we sent.
func (m *Model) AddSent(id, digits string) {
	if _, c := m.find(id); c != nil {
		c.Sent = tail(c.Sent + digits)
	}
}

// SetFocused tells the pane whether it has the keyboard.
func (m *Model) SetFocused(f bool) { m.focused = f }

// SetSize sets the cells inside the pane's border.
func (m *Model) SetSize(width, height int) { m.width, m.height = width, height }

// KeyBindings are the pane's keys.
func (m *Model) KeyBindings() []key.Binding {
	k := m.c.Keys
	return []key.Binding{k.Up, k.Down}
}

// Title is the pane's title.
func (m *Model) Title() string {
	if len(m.calls) == 0 {
		return "Calls"
	}
	return fmt.Sprintf("Calls (%d)", len(m.calls))
}
