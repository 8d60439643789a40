// Package messages is the instant-message pane: the conversations (one per peer, newest
// first, with unread counts), the highlighted conversation, and a line to write in.
//
// The pane holds what it shows and nothing else: sending, reading and marking read are the
// root model's, which it asks for with the messages below (returned as commands, like the
// dialer's DialMsg), and whose results it is handed back through SetConversations, SetThread
// and SendDone.
package messages

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
	"github.com/dialtone/dialtone/ui/input"
)

const (
	// ThreadLimit is how many messages of a conversation the root model asks History for.
	ThreadLimit = 200
	// maxThread bounds a conversation kept in memory; maxConversations the list.
	maxThread        = 500
	maxConversations = 500
	// maxPending bounds the messages sent this session that no event has confirmed.
	maxPending = 100
	// splitWidth is the inner width from which the list and the conversation sit side by
	// side; below it the list fills the pane until a conversation is opened.
	splitWidth = 64
)

// Message statuses shown for outgoing messages, besides the core's "sent" and "failed".
const (
	StatusSending = "sending" // SendMessage has not returned yet
	StatusPending = "pending" // History kept it unconfirmed (the program stopped mid-send)
)

// Conversation is one peer's conversation as the list shows it.
type Conversation struct {
	Peer     string // the peer's address, as History or the event gave it
	PeerName string // display name, when an event carried one
	Last     phone.Message
	Unread   int
}

// SelectMsg says the highlighted conversation changed: the root model loads it from History.
type SelectMsg struct{ Peer string }

// OpenMsg says the user opened a conversation: the root model marks it read in History.
type OpenMsg struct{ Peer string }

// SendMsg asks the root model to send Text to Target; SendDone(ID, err) reports the outcome.
type SendMsg struct {
	ID     int
	Target string
	Text   string
}

// AccountMsg asks the root model to switch the account messages (and calls) go out on.
type AccountMsg struct{}

type mode int

const (
	browsing   mode = iota // the list has the keyboard
	addressing             // "To ❯": the address of a new conversation is being typed
	writing                // a conversation is open and the compose line has the keyboard
)

// pending is a message sent this session and not yet confirmed by the core's event.
type pending struct {
	id  int
	key string
	msg phone.Message
}

// Model is the messages pane.
type Model struct {
	c          *common.Common
	convs      []*Conversation            // newest first
	names      map[string]string          // display names seen in events, by peer key
	stored     map[string][]phone.Message // by peer key, oldest first, as History last gave them
	session    map[string][]phone.Message // by peer key, oldest first, from this session's events
	loaded     map[string]bool            // conversations read from History
	pending    []*pending
	nextID     int
	sel        string // key of the highlighted conversation; "" follows the newest
	draft      string // the address of a new conversation nothing was exchanged with yet
	mode       mode
	compose    *input.Model
	to         *input.Model
	account    string
	switchable bool // more than one account: ctrl+o switches
	scroll     int  // conversation lines scrolled up from the newest
	threadH    int  // lines the conversation had at the last View (for page up/down)
	focused    bool
	width      int
	height     int
}

var _ common.Component = (*Model)(nil)

// New returns an empty pane.
func New(c *common.Common) *Model {
	compose := input.New(c)
	compose.Prompt = "❯ "
	compose.Placeholder = "write a message, enter sends"
	compose.CharLimit = phone.MaxMessageBytes
	to := input.New(c)
	to.Prompt = "To ❯ "
	to.Placeholder = "a number, user@host or sip:…"
	to.CharLimit = 512
	return &Model{c: c, names: map[string]string{}, stored: map[string][]phone.Message{},
		session: map[string][]phone.Message{}, loaded: map[string]bool{}, compose: compose, to: to}
}

// Update takes message events and, while focused, the keyboard.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case phone.Message:
		m.add(msg)
	case tea.PasteMsg:
		switch m.mode {
		case addressing:
			return m.to.Update(msg)
		case writing:
			return m.compose.Update(msg)
		}
	case tea.KeyPressMsg:
		if !m.focused {
			return nil
		}
		switch m.mode {
		case addressing:
			return m.addressKey(msg)
		case writing:
			return m.writeKey(msg)
		}
		return m.browseKey(msg)
	}
	return nil
}

func (m *Model) browseKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.Keys
	i := m.index()
	switch {
	case key.Matches(msg, k.Up):
		return m.highlight(max(0, i-1))
	case key.Matches(msg, k.Down):
		return m.highlight(min(len(m.convs)-1, i+1))
	case key.Matches(msg, k.Top):
		return m.highlight(0)
	case key.Matches(msg, k.Bottom):
		return m.highlight(len(m.convs) - 1)
	case key.Matches(msg, k.NewMessage):
		m.startAddressing()
	case key.Matches(msg, k.Open):
		c, ok := m.Current()
		if !ok {
			m.startAddressing()
			return nil
		}
		return m.open(c.Peer)
	}
	return nil
}

func (m *Model) addressKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.Keys
	switch {
	case key.Matches(msg, k.Leave):
		m.to.Blur()
		m.mode = browsing
		return nil
	case key.Matches(msg, k.Send):
		target := strings.TrimSpace(m.to.Value())
		if target == "" {
			return nil
		}
		m.to.Blur()
		if i := m.find(common.PeerKey(target)); i >= 0 {
			return m.open(m.convs[i].Peer)
		}
		m.draft = target
		m.sel = ""
		m.startWriting()
		peer := target
		return func() tea.Msg { return SelectMsg{Peer: peer} }
	}
	return m.to.Update(msg)
}

func (m *Model) writeKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.Keys
	switch {
	case key.Matches(msg, k.Leave):
		m.compose.Reset()
		m.compose.Blur()
		m.mode, m.draft, m.scroll = browsing, "", 0
		return nil
	case key.Matches(msg, k.Send):
		return m.send()
	case key.Matches(msg, k.ScrollUp):
		m.scroll += m.step(msg)
		return nil
	case key.Matches(msg, k.ScrollDown):
		m.scroll = max(0, m.scroll-m.step(msg))
		return nil
	case key.Matches(msg, k.Account):
		if !m.switchable {
			return nil
		}
		return func() tea.Msg { return AccountMsg{} }
	}
	return m.compose.Update(msg)
}

func (m *Model) step(msg tea.KeyPressMsg) int {
	if s := msg.String(); s == "pgup" || s == "pgdown" {
		return max(1, m.threadH-1)
	}
	return 1
}

func (m *Model) startAddressing() {
	m.to.Reset()
	m.to.Focus()
	m.mode = addressing
}

func (m *Model) startWriting() {
	m.compose.Reset()
	m.compose.Focus()
	m.mode, m.scroll = writing, 0
}

// open opens the conversation with peer (one in the list): it is read from then on.
func (m *Model) open(peer string) tea.Cmd {
	key := common.PeerKey(peer)
	m.sel, m.draft = key, ""
	if i := m.find(key); i >= 0 {
		m.convs[i].Unread = 0
	}
	m.startWriting()
	return func() tea.Msg { return OpenMsg{Peer: peer} }
}

// highlight moves the list's highlight and asks for the conversation when it changed.
func (m *Model) highlight(i int) tea.Cmd {
	if i < 0 || i >= len(m.convs) {
		return nil
	}
	before, _ := m.Current()
	m.sel = common.PeerKey(m.convs[i].Peer)
	m.scroll = 0
	if common.PeerKey(before.Peer) == m.sel {
		return nil
	}
	peer := m.convs[i].Peer
	return func() tea.Msg { return SelectMsg{Peer: peer} }
}

func (m *Model) send() tea.Cmd {
	text := strings.TrimSpace(m.compose.Value())
	target := m.openPeer()
	if text == "" || target == "" {
		return nil
	}
	m.nextID++
	p := &pending{id: m.nextID, key: common.PeerKey(target), msg: phone.Message{Time: m.c.Now(),
		Direction: phone.Outgoing, Account: m.account, Peer: target, Text: text, Status: StatusSending}}
	m.pending = append(m.pending, p)
	if len(m.pending) > maxPending {
		m.pending = m.pending[len(m.pending)-maxPending:]
	}
	m.compose.Reset()
	m.scroll = 0
	msg := SendMsg{ID: p.id, Target: target, Text: text}
	return func() tea.Msg { return msg }
}

// SendDone records how sending message id ended. The core's event for it, which may come
// before or after, replaces the entry either way.
func (m *Model) SendDone(id int, err error) {
	for _, p := range m.pending {
		if p.id != id {
			continue
		}
		if err == nil {
			p.msg.Status, p.msg.Code = "sent", 200
			return
		}
		p.msg.Status, p.msg.Err = "failed", err
		var pe *phone.Error
		if errors.As(err, &pe) {
			p.msg.Code, p.msg.Reason, p.msg.Failure = pe.Code, pe.Reason, pe.Failure
		}
		return
	}
}

// add takes a message event: it joins its conversation, which moves to the top; a received
// one counts as unread unless its conversation is open in the focused pane; a sent one
// replaces the "sending" entry it confirms.
func (m *Model) add(ev phone.Message) {
	key := common.PeerKey(ev.Peer)
	if key == "" {
		return
	}
	if ev.PeerName != "" {
		m.names[key] = ev.PeerName
	}
	viewing := m.viewingKey(key)
	if ev.Direction == phone.Outgoing {
		m.confirm(ev, key)
	}
	if m.draft != "" && common.PeerKey(m.draft) == key {
		// The new conversation has its first message: it is a conversation like the others.
		m.draft, m.sel = "", key
		viewing = m.focused && m.mode == writing
	}
	th := append(m.session[key], ev)
	if len(th) > maxThread {
		th = th[len(th)-maxThread:]
	}
	m.session[key] = th

	i := m.find(key)
	var c *Conversation
	if i >= 0 {
		c = m.convs[i]
		m.convs = slices.Delete(m.convs, i, i+1)
	} else {
		c = &Conversation{Peer: ev.Peer}
	}
	c.Last = ev
	if ev.PeerName != "" {
		c.PeerName = ev.PeerName
	}
	if ev.Direction == phone.Incoming && !viewing {
		c.Unread++
	}
	m.convs = append([]*Conversation{c}, m.convs...)
	if len(m.convs) > maxConversations {
		m.convs = m.convs[:maxConversations]
	}
}

// confirm drops the pending entry an outgoing event confirms. The event's peer is the URI the
// core resolved, which may differ from what was typed (a bare number gains the account's
// domain), so a pending entry with the same text for another address matches too; an open
// new conversation then moves to the resolved address.
func (m *Model) confirm(ev phone.Message, key string) {
	match := -1
	for i, p := range m.pending {
		if p.msg.Text != ev.Text {
			continue
		}
		if p.key == key {
			match = i
			break
		}
		if match < 0 && p.msg.Status != "failed" {
			match = i
		}
	}
	if match < 0 {
		return
	}
	p := m.pending[match]
	m.pending = slices.Delete(m.pending, match, match+1)
	if m.draft != "" && common.PeerKey(m.draft) == p.key {
		m.draft = ev.Peer
	}
}

// SetConversations takes History's list (newest first). History is right about what it
// has; a conversation of this session it lacks (a store that is behind, or failed to keep a
// sent message) stays, and so does a newer last message. The highlight stays on its
// conversation, and the open one stays read.
func (m *Model) SetConversations(cs []Conversation) {
	local := map[string]*Conversation{}
	for _, c := range m.convs {
		local[common.PeerKey(c.Peer)] = c
	}
	out := make([]*Conversation, 0, len(cs)+len(m.convs))
	seen := map[string]bool{}
	for _, c := range cs {
		c := c
		key := common.PeerKey(c.Peer)
		if key == "" || seen[key] {
			continue
		}
		seen[key] = true
		if l, ok := local[key]; ok && l.Last.Time.After(c.Last.Time) && !sameMessage(l.Last, c.Last) {
			c.Last, c.Unread = l.Last, max(c.Unread, l.Unread)
		}
		if c.PeerName == "" {
			c.PeerName = m.names[key]
		}
		if c.PeerName == "" {
			c.PeerName = c.Last.PeerName
		}
		out = append(out, &c)
	}
	for _, c := range m.convs {
		if key := common.PeerKey(c.Peer); !seen[key] && len(m.session[key]) > 0 {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b *Conversation) int { return b.Last.Time.Compare(a.Last.Time) })
	if len(out) > maxConversations {
		out = out[:maxConversations]
	}
	for _, c := range out {
		if m.viewingKey(common.PeerKey(c.Peer)) {
			c.Unread = 0
		}
	}
	m.convs = out
}

// SetThread takes History's messages with peer (oldest first); this session's that it lacks
// stay, in time order.
func (m *Model) SetThread(peer string, msgs []phone.Message) {
	key := common.PeerKey(peer)
	if len(msgs) > maxThread {
		msgs = msgs[len(msgs)-maxThread:]
	}
	m.stored[key] = append([]phone.Message(nil), msgs...)
	m.loaded[key] = true
}

// dupWindow is how far apart the times of a message from an event and the same message read
// back from History may be (the store keeps microseconds).
const dupWindow = 2 * time.Second

// sameMessage reports whether an event and a stored message are the same message.
func sameMessage(a, b phone.Message) bool {
	d := a.Time.Sub(b.Time)
	return a.Direction == b.Direction && a.Text == b.Text && d < dupWindow && d > -dupWindow
}

// messages merges a conversation's stored and session messages, oldest first.
func (m *Model) messages(key string) []phone.Message {
	stored, session := m.stored[key], m.session[key]
	out := append([]phone.Message(nil), stored...)
	for _, ev := range session {
		if !slices.ContainsFunc(stored, func(s phone.Message) bool { return sameMessage(s, ev) }) {
			out = append(out, ev)
		}
	}
	if len(stored) > 0 && len(out) > len(stored) {
		slices.SortStableFunc(out, func(a, b phone.Message) int { return a.Time.Compare(b.Time) })
	}
	if len(out) > maxThread {
		out = out[len(out)-maxThread:]
	}
	return out
}

// NeedsThread reports whether the conversation with peer was never read from History.
func (m *Model) NeedsThread(peer string) bool { return !m.loaded[common.PeerKey(peer)] }

// Conversations returns the list, newest first.
func (m *Model) Conversations() []Conversation {
	out := make([]Conversation, len(m.convs))
	for i, c := range m.convs {
		out[i] = *c
	}
	return out
}

// Thread returns what the pane shows of the conversation with peer, oldest first: its
// messages, then those sent this session and not confirmed yet.
func (m *Model) Thread(peer string) []phone.Message {
	key := common.PeerKey(peer)
	out := m.messages(key)
	for _, p := range m.pending {
		if p.key == key {
			out = append(out, p.msg)
		}
	}
	return out
}

// Unread is the number of unread messages in all conversations.
func (m *Model) Unread() int {
	n := 0
	for _, c := range m.convs {
		n += c.Unread
	}
	return n
}

// Current is the highlighted conversation.
func (m *Model) Current() (Conversation, bool) {
	if i := m.index(); i >= 0 {
		return *m.convs[i], true
	}
	return Conversation{}, false
}

// CurrentPeer is the address the pane shows a conversation with: the open new conversation's,
// else the highlighted one's; "" when there is none.
func (m *Model) CurrentPeer() string {
	if m.draft != "" {
		return m.draft
	}
	if c, ok := m.Current(); ok {
		return c.Peer
	}
	return ""
}

// SelectFirstUnread highlights the newest conversation with unread messages, if any.
func (m *Model) SelectFirstUnread() tea.Cmd {
	if m.mode != browsing {
		return nil
	}
	for i, c := range m.convs {
		if c.Unread > 0 {
			return m.highlight(i)
		}
	}
	return nil
}

// Viewing reports whether the conversation with peer is open in the focused pane: a message
// from that peer is read as it arrives.
func (m *Model) Viewing(peer string) bool { return m.viewingKey(common.PeerKey(peer)) }

func (m *Model) viewingKey(key string) bool {
	return m.focused && m.mode == writing && key != "" && common.PeerKey(m.openPeer()) == key
}

// Typing reports whether a text field of the pane has the keyboard.
func (m *Model) Typing() bool { return m.mode != browsing }

// Writing reports whether a conversation is open with the compose line.
func (m *Model) Writing() bool { return m.mode == writing }

// ComposeValue is the text being written.
func (m *Model) ComposeValue() string { return m.compose.Value() }

// SetAccount names the account messages go out on, shown beside the compose line;
// switchable says whether there is another one to switch to.
func (m *Model) SetAccount(a string, switchable bool) { m.account, m.switchable = a, switchable }

// SetFocused tells the pane whether it has the keyboard.
func (m *Model) SetFocused(f bool) { m.focused = f }

// SetSize sets the cells inside the pane's border.
func (m *Model) SetSize(width, height int) { m.width, m.height = width, height }

// KeyBindings are the pane's keys in its current mode.
func (m *Model) KeyBindings() []key.Binding {
	k := m.c.Keys
	switch m.mode {
	case addressing:
		return []key.Binding{k.Send, k.Leave}
	case writing:
		// Least important last: a narrow help bar cuts from the end.
		bs := []key.Binding{k.Send, k.Leave}
		if m.switchable {
			bs = append(bs, k.Account)
		}
		return append(bs, k.ScrollUp, k.ScrollDown)
	}
	return []key.Binding{k.Up, k.Down, k.Open, k.NewMessage}
}

// Title is the pane's title, with the unread count.
func (m *Model) Title() string {
	if n := m.Unread(); n > 0 {
		return fmt.Sprintf("Messages (%d unread)", n)
	}
	return "Messages"
}

func (m *Model) find(key string) int {
	for i, c := range m.convs {
		if common.PeerKey(c.Peer) == key {
			return i
		}
	}
	return -1
}

// index is the highlighted conversation's position, -1 when the list is empty.
func (m *Model) index() int {
	if len(m.convs) == 0 {
		return -1
	}
	if m.sel != "" {
		if i := m.find(m.sel); i >= 0 {
			return i
		}
	}
	return 0
}

func (m *Model) openPeer() string {
	if m.mode != writing {
		return ""
	}
	return m.CurrentPeer()
}

// View draws the list and the conversation side by side when there is room, else the list
// until a conversation is opened.
func (m *Model) View() string {
	w, h := m.width, m.height
	if w <= 0 || h <= 0 {
		return ""
	}
	st := m.c.Styles
	if len(m.convs) == 0 && m.mode == browsing {
		hint := " No messages yet. Press t, then n to write one."
		if m.focused {
			hint = " No messages yet. Press n to write one."
		}
		return st.Empty.Render(common.Truncate(hint, w))
	}
	if w < splitWidth {
		if m.mode == browsing {
			return strings.Join(m.list(w, h), "\n")
		}
		return strings.Join(m.conversation(w, h), "\n")
	}
	listW := max(18, min(32, w/3))
	left, right := m.list(listW, h), m.conversation(w-listW-1, h)
	bar := st.Divider.Render("│")
	rows := make([]string, h)
	for i := range rows {
		var l, r string
		if i < len(left) {
			l = left[i]
		}
		if i < len(right) {
			r = right[i]
		}
		rows[i] = common.PadRight(l, listW) + bar + r
	}
	return strings.Join(rows, "\n")
}

// list is one row per conversation: the peer, the last message when there is room, and the
// unread count; scrolled to keep the highlight in view.
func (m *Model) list(w, h int) []string {
	st := m.c.Styles
	if len(m.convs) == 0 {
		return []string{st.Empty.Render(common.Truncate(" No conversations yet.", w))}
	}
	cur := m.index()
	if m.draft != "" {
		cur = -1
	}
	first := 0
	if cur >= h {
		first = cur - h + 1
	}
	var rows []string
	for i := first; i < len(m.convs) && len(rows) < h; i++ {
		rows = append(rows, m.listRow(m.convs[i], i == cur, w))
	}
	return rows
}

func (m *Model) listRow(c *Conversation, current bool, w int) string {
	st := m.c.Styles
	marker := "  "
	if current {
		marker = "▸ "
	}
	badge := ""
	if c.Unread > 0 {
		badge = " " + st.Unread.Render(fmt.Sprintf("●%d", c.Unread))
	}
	name := common.Clean(strings.TrimSpace(c.PeerName))
	if name == "" {
		name = common.Peer(c.Peer, "")
	}
	avail := w - lipgloss.Width(marker) - lipgloss.Width(badge)
	body := common.Truncate(name, avail)
	if room := avail - lipgloss.Width(name) - 2; room >= 10 && c.Last.Text != "" {
		arrow := "←"
		if c.Last.Direction == phone.Outgoing {
			arrow = "→"
		}
		preview := arrow + " " + firstLine(c.Last.Text)
		body = name + "  " + st.MsgPreview.Render(common.Truncate(preview, room))
	}
	line := marker + common.PadRight(body, avail) + badge
	if current && m.focused && m.mode == browsing {
		return st.RowSelected.Render(common.PadRight(line, w))
	}
	return st.Row.Render(line)
}

// conversation is the header (who), the messages (the newest at the bottom) and the compose
// line, in w x h cells.
func (m *Model) conversation(w, h int) []string {
	st := m.c.Styles
	peer := m.CurrentPeer()
	var header string
	switch {
	case m.mode == addressing:
		header = " " + st.MsgPeer.Render("New message")
	case peer != "":
		header = " " + st.MsgPeer.Render(common.Peer(peer, m.names[common.PeerKey(peer)]))
		if m.scroll > 0 {
			header += st.MsgTime.Render(" ↑")
		}
	}
	compose := m.composeLine(w, peer)

	var body []string
	if m.mode == addressing {
		body = []string{st.Empty.Render(common.Truncate(" Type the address, then enter; esc cancels.", w))}
	} else if peer != "" {
		body = m.threadLines(peer, w)
	}
	bodyH := h
	var top, bottom []string
	if h >= 3 {
		top, bodyH = []string{header}, h-2
		bottom = []string{compose}
	} else if m.mode != browsing {
		bottom, bodyH = []string{compose}, h-1
	}
	m.threadH = bodyH
	m.scroll = max(0, min(m.scroll, len(body)-bodyH))
	end := len(body) - m.scroll
	start := max(0, end-bodyH)
	shown := body[start:end]
	out := append([]string(nil), top...)
	for i := 0; i < bodyH-len(shown); i++ {
		out = append(out, "") // the newest messages sit just above the compose line
	}
	out = append(out, shown...)
	out = append(out, bottom...)
	for i := range out {
		out[i] = common.PadRight(out[i], w)
	}
	return out
}

func (m *Model) composeLine(w int, peer string) string {
	st := m.c.Styles
	switch m.mode {
	case addressing:
		m.to.SetWidth(w - 1)
		return " " + m.to.View()
	case writing:
		via := ""
		if m.account != "" {
			via = "  " + st.DialerAccount.Render("via "+common.Clean(m.account))
		}
		field := w - 1 - lipgloss.Width(via)
		if field < 12 {
			via, field = "", w-1
		}
		m.compose.SetWidth(field)
		return " " + common.PadRight(m.compose.View(), field) + via
	}
	if peer == "" || !m.focused {
		return ""
	}
	return st.Empty.Render(common.Truncate(" enter writes to "+common.Peer(peer, m.names[common.PeerKey(peer)]), w))
}

// threadLines lays the conversation out: a date line when the day changes, then per message
// "15:04 ← text", wrapped to the width, with the delivery state of sent ones on the right.
func (m *Model) threadLines(peer string, w int) []string {
	st := m.c.Styles
	msgs := m.Thread(peer)
	if len(msgs) == 0 {
		return []string{st.Empty.Render(common.Truncate(" No messages yet.", w))}
	}
	now := m.c.Now()
	var lines []string
	var lastDay time.Time
	for i, msg := range msgs {
		t := msg.Time
		if t.IsZero() {
			t = now
		}
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
		if (i == 0 && !sameDay(t, now)) || (i > 0 && !day.Equal(lastDay)) {
			lines = append(lines, st.MsgDay.Render(common.Truncate(" ── "+dayLabel(t, now)+" ──", w)))
		}
		lastDay = day

		arrow := st.MsgIn.Render("←")
		status := ""
		if msg.Direction == phone.Outgoing {
			arrow = st.MsgOut.Render("→")
			status = m.status(msg)
		}
		prefix := " " + st.MsgTime.Render(t.Format("15:04")) + " " + arrow + " "
		indent := strings.Repeat(" ", lipgloss.Width(prefix))
		full := w - lipgloss.Width(prefix)
		statusW := lipgloss.Width(status)
		// The state sits at the right of the first line, unless that leaves the text too
		// little room: then it goes on a line of its own under the text.
		beside := status != "" && full-statusW-2 >= 8
		textW := full
		if beside {
			textW = full - statusW - 2
		}
		for j, l := range wrap(msg.Text, max(1, textW)) {
			switch {
			case j > 0:
				lines = append(lines, common.Truncate(indent+l, w))
			case beside:
				lines = append(lines, common.PadRight(prefix+l, w-statusW)+status)
			default:
				lines = append(lines, common.Truncate(prefix+l, w))
			}
		}
		if status != "" && !beside {
			lines = append(lines, common.Truncate(indent+status, w))
		}
		if r := failure(msg); r != "" {
			lines = append(lines, common.Truncate(indent+st.MsgFailed.Render(r), w))
		}
	}
	return lines
}

// status is the delivery state of a sent message: sending, sent, or failed with the code.
func (m *Model) status(msg phone.Message) string {
	st := m.c.Styles
	switch msg.Status {
	case StatusSending, StatusPending:
		return st.MsgSending.Render("… " + msg.Status)
	case "sent":
		return st.MsgSent.Render("✓ sent")
	case "failed":
		if msg.Code != 0 {
			return st.MsgFailed.Render(fmt.Sprintf("✗ failed (%d)", msg.Code))
		}
		return st.MsgFailed.Render("✗ failed")
	}
	return st.MsgTime.Render(common.Clean(msg.Status))
}

// failure says why a sent message failed: the response, or the error for a local failure;
// "" for messages that did not fail.
func failure(msg phone.Message) string {
	if msg.Status != "failed" {
		return ""
	}
	switch {
	case msg.Reason != "" && msg.Code != 0:
		return common.Clean(fmt.Sprintf("%d %s", msg.Code, msg.Reason))
	case msg.Reason != "":
		return common.Clean(msg.Reason)
	case msg.Err != nil:
		return common.Clean(msg.Err.Error())
	}
	return ""
}

// wrap breaks text into lines of at most w cells: at its own line breaks, then between
// words, and inside a word longer than the line. Wide characters (emoji, CJK) count two.
func wrap(text string, w int) []string {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	var out []string
	for _, para := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		para = common.Clean(para)
		if para == "" {
			out = append(out, "")
			continue
		}
		for _, l := range strings.Split(ansi.Wrap(para, w, ""), "\n") {
			out = append(out, common.Truncate(strings.TrimRight(l, " "), w))
		}
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i] + " …"
	}
	return common.Clean(s)
}

func sameDay(a, b time.Time) bool {
	b = b.In(a.Location())
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

func dayLabel(t, now time.Time) string {
	switch {
	case sameDay(t, now):
		return "Today"
	case sameDay(t, now.AddDate(0, 0, -1)):
		return "Yesterday"
	case t.Year() == now.Year():
		return t.Format("Mon 2 Jan")
	}
	return t.Format("Mon 2 Jan 2006")
}
