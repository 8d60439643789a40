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
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

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
	compose.ByteLimit = phone.MaxMessageBytes // what SendMessage takes: bytes, not characters
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
