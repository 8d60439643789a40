package messages

import (
	"fmt"
	"slices"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
)

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
		i := slices.IndexFunc(stored, func(s phone.Message) bool { return sameMessage(s, ev) })
		switch {
		case i < 0:
			out = append(out, ev)
		case stored[i].Status == StatusPending:
			out[i] = ev // History read it while it was on its way: the event has how it ended
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
		if p.key != key {
			continue
		}
		// History keeps a message being sent as pending: read meanwhile, that row is this one.
		if i := slices.IndexFunc(out, func(s phone.Message) bool { return s.Status == StatusPending && sameMessage(s, p.msg) }); i >= 0 {
			out[i] = p.msg
			continue
		}
		out = append(out, p.msg)
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
