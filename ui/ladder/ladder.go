package ladder

import (
	"strings"
	"time"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/dialtone/dialtone/ui/common"
)

// MaxMessages bounds what the pane keeps. Past it, whole dialogs go, oldest first, so a
// dialog on screen is never missing its start.
const MaxMessages = 2000

// Dialog is the messages of one Call-ID.
type Dialog struct {
	CallID string
	Method string // of the first request seen (a response first: its CSeq method)
	Peer   string
	Msgs   []Message
}

// focus is which part of the pane has the keys.
type focus int

const (
	focusList   focus = iota // the dialog list and the filter
	focusLadder              // a message of the selected dialog
	focusFull                // the selected message in full
)

// Model is the ladder pane. It is modal: while Active, it takes every key.
type Model struct {
	c       *common.Common
	dialogs []*Dialog // in order of their first message
	byID    map[string]*Dialog
	total   int
	filter  string
	sel     int    // in the filtered list
	selID   string // the selected dialog's Call-ID, so new dialogs do not move the selection
	msg     int    // selected message of the selected dialog
	scroll  int    // first line of the full message
	focus   focus
	active  bool
	width   int
	height  int
	// saved is what the last ctrl+s said (export.go); SaveDir is where it writes ("" = the
	// working directory).
	saved   string
	SaveDir string
}

var _ common.Component = (*Model)(nil)

// New returns an empty pane.
func New(c *common.Common) *Model { return &Model{c: c, byID: map[string]*Dialog{}} }

// Open shows the pane, on the dialog list, the newest dialog selected.
func (m *Model) Open() {
	m.active, m.focus = true, focusList
	if vis := m.visible(); len(vis) > 0 {
		m.sel = len(vis) - 1
		m.selID = vis[m.sel].CallID
	}
}

// Active reports whether the pane is open.
func (m *Model) Active() bool { return m.active }

// Close hides the pane.
func (m *Model) Close() { m.active = false }

// Add records a SIP trace line of the TUI's tracer; anything else is ignored.
func (m *Model) Add(t time.Time, text string) {
	msg, ok := Parse(t, text)
	if !ok {
		return
	}
	d := m.byID[msg.CallID]
	if d == nil {
		d = &Dialog{CallID: msg.CallID, Method: msg.Method, Peer: msg.Peer}
		m.byID[msg.CallID] = d
		m.dialogs = append(m.dialogs, d)
	}
	if msg.Request && !hasRequest(d.Msgs) {
		// A response seen before any request (we joined late): the first request names it.
		d.Method, d.Peer = msg.Method, msg.Peer
	}
	d.Msgs = append(d.Msgs, msg)
	m.total++
	for m.total > MaxMessages && len(m.dialogs) > 1 {
		old := m.dialogs[0]
		m.dialogs = m.dialogs[1:]
		delete(m.byID, old.CallID)
		m.total -= len(old.Msgs)
	}
	if m.total > MaxMessages { // one dialog of more than MaxMessages: drop its oldest
		d := m.dialogs[0]
		n := m.total - MaxMessages
		d.Msgs = append(d.Msgs[:0:0], d.Msgs[n:]...)
		m.total -= n
	}
	m.reselect()
}

func hasRequest(ms []Message) bool {
	for _, x := range ms {
		if x.Request {
			return true
		}
	}
	return false
}

// Dialogs are the dialogs the filter lets through, oldest first.
func (m *Model) Dialogs() []*Dialog { return m.visible() }

func (m *Model) visible() []*Dialog {
	if m.filter == "" {
		return m.dialogs
	}
	f := strings.ToLower(m.filter)
	var out []*Dialog
	for _, d := range m.dialogs {
		if strings.Contains(strings.ToLower(d.CallID), f) || strings.Contains(strings.ToLower(d.Peer), f) ||
			(len(d.Msgs) > 0 && strings.Contains(strings.ToLower(d.Msgs[0].Remote), f)) {
			out = append(out, d)
		}
	}
	return out
}

// reselect keeps the selected dialog selected when the list changes under it.
func (m *Model) reselect() {
	vis := m.visible()
	for i, d := range vis {
		if d.CallID == m.selID {
			m.sel = i
			return
		}
	}
	m.sel = clamp(m.sel, 0, len(vis)-1)
	if len(vis) > 0 {
		m.selID = vis[m.sel].CallID
	} else {
		m.selID = ""
	}
	m.msg = 0
}

// Selected is the selected dialog, nil when none.
func (m *Model) Selected() *Dialog {
	vis := m.visible()
	if m.sel < 0 || m.sel >= len(vis) {
		return nil
	}
	return vis[m.sel]
}

func (m *Model) SetSize(w, h int) { m.width, m.height = w, h }

// KeyBindings are what works in the current focus.
func (m *Model) KeyBindings() []key.Binding {
	k := m.c.Keys
	switch m.focus {
	case focusLadder:
		return []key.Binding{k.ScrollUp, k.ScrollDown, bind("enter", "full message"), bind("esc", "dialogs")}
	case focusFull:
		return []key.Binding{k.ScrollUp, k.ScrollDown, bind("esc", "ladder")}
	}
	return []key.Binding{k.ScrollUp, k.ScrollDown, bind("enter", "ladder"), bind("type", "filter"), bind("ctrl+s", "save pcap"), bind("esc", "close")}
}

func bind(k, help string) key.Binding { return key.NewBinding(key.WithKeys(k), key.WithHelp(k, help)) }

// Update handles keys while the pane is open.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if s, ok := msg.(SavedMsg); ok { // a save's outcome, whether or not the pane is still open
		m.saved = s.Text
		return nil
	}
	if !m.active {
		return nil
	}
	if p, ok := msg.(tea.PasteMsg); ok && m.focus == focusList {
		// A pasted Call-ID or address filters like typed text; only its first line counts.
		line, _, _ := strings.Cut(p.Content, "\n")
		m.filter = truncRunes(m.filter+strings.TrimSpace(line), maxFilter)
		m.sel, m.selID = 0, ""
		m.reselect()
		return nil
	}
	kp, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	if kp.String() == "ctrl+s" { // from every focus: the dialogs the filter shows, as a capture file
		m.saved = "saving…"
		return m.exportCmd(m.SaveDir)
	}
	switch m.focus {
	case focusList:
		m.listKey(kp)
	case focusLadder:
		m.ladderKey(kp)
	case focusFull:
		m.fullKey(kp)
	}
	return nil
}

func (m *Model) listKey(kp tea.KeyPressMsg) {
	vis := m.visible()
	switch s := kp.String(); s {
	case "esc":
		if m.filter != "" {
			m.filter = ""
			m.reselect()
			return
		}
		m.active = false
	case "up":
		m.moveDialog(-1)
	case "down":
		m.moveDialog(1)
	case "pgup":
		m.moveDialog(-max(1, m.height/3-1))
	case "pgdown":
		m.moveDialog(max(1, m.height/3-1))
	case "home":
		m.moveDialog(-len(vis))
	case "end":
		m.moveDialog(len(vis))
	case "enter", "right":
		if d := m.Selected(); d != nil && len(d.Msgs) > 0 {
			m.focus, m.msg = focusLadder, clamp(m.msg, 0, len(d.Msgs)-1)
		}
	case "backspace":
		if m.filter != "" {
			_, n := utf8.DecodeLastRuneInString(m.filter)
			m.filter = m.filter[:len(m.filter)-n]
			m.reselect()
		}
	default:
		// Letters, digits and the punctuation of addresses and Call-IDs filter the list.
		if kp.Text != "" && utf8.RuneCountInString(kp.Text) == 1 && kp.Mod&^tea.ModShift == 0 && len(m.filter) < maxFilter {
			m.filter += kp.Text
			m.sel = 0
			m.selID = ""
			m.reselect()
		}
	}
}

func (m *Model) moveDialog(by int) {
	vis := m.visible()
	if len(vis) == 0 {
		return
	}
	m.sel = clamp(m.sel+by, 0, len(vis)-1)
	m.selID, m.msg = vis[m.sel].CallID, 0
}

func (m *Model) ladderKey(kp tea.KeyPressMsg) {
	d := m.Selected()
	if d == nil {
		m.focus = focusList
		return
	}
	switch kp.String() {
	case "esc", "left":
		m.focus = focusList
	case "up", "k":
		m.msg = clamp(m.msg-1, 0, len(d.Msgs)-1)
	case "down", "j":
		m.msg = clamp(m.msg+1, 0, len(d.Msgs)-1)
	case "pgup":
		m.msg = clamp(m.msg-max(1, m.height/2), 0, len(d.Msgs)-1)
	case "pgdown":
		m.msg = clamp(m.msg+max(1, m.height/2), 0, len(d.Msgs)-1)
	case "home", "g":
		m.msg = 0
	case "end", "G":
		m.msg = len(d.Msgs) - 1
	case "enter":
		m.focus, m.scroll = focusFull, 0
	}
}

func (m *Model) fullKey(kp tea.KeyPressMsg) {
	page := max(1, m.height-2)
	switch kp.String() {
	case "esc", "enter", "left":
		m.focus = focusLadder
	case "up", "k":
		m.scroll = max(0, m.scroll-1)
	case "down", "j":
		m.scroll++
	case "pgup":
		m.scroll = max(0, m.scroll-page)
	case "pgdown", "space":
		m.scroll += page
	case "home", "g":
		m.scroll = 0
	}
}

// maxFilter bounds the filter (bytes): longer than any Call-ID worth typing.
const maxFilter = 128

func truncRunes(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

func clamp(v, lo, hi int) int {
	if hi < lo {
		return lo
	}
	return max(lo, min(v, hi))
}
