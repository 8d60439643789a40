package ui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
	"github.com/dialtone/dialtone/ui/history"
	"github.com/dialtone/dialtone/ui/messages"
	"github.com/dialtone/dialtone/ui/notify"
)

// maxPastCalls is how many calls of the persistent history the history pane asks for.
const maxPastCalls = 500

// History reads run as tea.Cmds, like the phone commands: a database read must not hold up
// the screen. Each answer carries the number of its request; only the latest is used.

type convsLoadedMsg struct {
	gen   int
	convs []Conversation
	err   error
}

type threadLoadedMsg struct {
	gen  int
	peer string
	msgs []phone.Message
	err  error
}

type callsLoadedMsg struct {
	gen  int
	recs []CallRecord
	err  error
}

// messageSentMsg is SendMessage's outcome for the pane's entry id.
type messageSentMsg struct {
	id     int
	target string
	err    error
}

// loadHistory reads the conversations and the past calls: at start-up.
func (m *Model) loadHistory() tea.Cmd {
	if m.opts.History == nil {
		return nil
	}
	return tea.Batch(m.loadConversations(), m.loadCalls())
}

func (m *Model) loadConversations() tea.Cmd {
	h := m.opts.History
	if h == nil {
		return nil
	}
	m.convGen++
	gen := m.convGen
	return func() tea.Msg {
		cs, err := h.Conversations()
		return convsLoadedMsg{gen: gen, convs: cs, err: err}
	}
}

// markRead marks a conversation read and then reads the conversations again, in one command
// so the list cannot be read before the mark.
func (m *Model) markRead(peer string) tea.Cmd {
	h := m.opts.History
	if h == nil {
		return nil
	}
	m.convGen++
	gen := m.convGen
	return func() tea.Msg {
		if err := h.MarkRead(peer); err != nil {
			return convsLoadedMsg{gen: gen, err: err}
		}
		cs, err := h.Conversations()
		return convsLoadedMsg{gen: gen, convs: cs, err: err}
	}
}

func (m *Model) loadThread(peer string) tea.Cmd {
	h := m.opts.History
	if h == nil || peer == "" {
		return nil
	}
	m.threadGen++
	gen := m.threadGen
	return func() tea.Msg {
		msgs, err := h.Thread(peer, messages.ThreadLimit)
		return threadLoadedMsg{gen: gen, peer: peer, msgs: msgs, err: err}
	}
}

func (m *Model) loadCalls() tea.Cmd {
	h := m.opts.History
	if h == nil {
		return nil
	}
	m.callsGen++
	gen := m.callsGen
	return func() tea.Msg {
		recs, err := h.Calls(maxPastCalls)
		return callsLoadedMsg{gen: gen, recs: recs, err: err}
	}
}

func (m *Model) handleConversations(r convsLoadedMsg) tea.Cmd {
	if r.gen != m.convGen {
		return nil
	}
	if r.err != nil {
		m.setNotice(false, fmt.Sprintf("history: %v", r.err))
		return nil
	}
	before := m.messages.CurrentPeer()
	cs := make([]messages.Conversation, len(r.convs))
	for i, c := range r.convs {
		cs[i] = messages.Conversation{Peer: c.Peer, PeerName: c.Last.PeerName, Last: c.Last, Unread: c.Unread}
	}
	m.messages.SetConversations(cs)
	// The highlighted conversation shows beside the list: read it when it is new.
	if cur := m.messages.CurrentPeer(); cur != "" && (common.PeerKey(cur) != common.PeerKey(before) || m.messages.NeedsThread(cur)) {
		return m.loadThread(cur)
	}
	return nil
}

func (m *Model) handleThread(r threadLoadedMsg) {
	if r.gen != m.threadGen {
		return
	}
	if r.err != nil {
		m.setNotice(false, fmt.Sprintf("history: %v", r.err))
		return
	}
	m.messages.SetThread(r.peer, r.msgs)
}

func (m *Model) handleCalls(r callsLoadedMsg) {
	if r.gen != m.callsGen {
		return
	}
	if r.err != nil {
		m.setNotice(false, fmt.Sprintf("history: %v", r.err))
		return
	}
	es := make([]history.Entry, len(r.recs))
	for i, rec := range r.recs {
		es[i] = pastEntry(rec)
	}
	m.history.SetPast(es)
}

// pastEntry turns a stored call into a history row, with the outcome worded as for the
// session's calls. The store keeps the response code but not the core's failure class, so
// the class is worked out from the code the way the core does.
func pastEntry(r CallRecord) history.Entry {
	dir := phone.Outgoing
	if strings.EqualFold(r.Direction, phone.Incoming.String()) {
		dir = phone.Incoming
	}
	s := phone.CallStatus{Direction: dir, Account: r.Account, Peer: r.Peer, PeerName: r.PeerName,
		Code: r.Code, Reason: r.Reason, By: r.By, Started: r.Start}
	if r.Answered {
		s.Answered = r.Start // Outcome only asks whether it was answered
	} else if dir == phone.Outgoing && !(r.By == "local" && (r.Code == 0 || r.Code == 487)) {
		s.Failure = failureOf(r.Code)
	}
	outcome, good := history.Outcome(s)
	return history.Entry{Account: r.Account, Direction: dir, Peer: r.Peer, PeerName: r.PeerName,
		Outcome: outcome, Good: good, Duration: r.Duration, Started: r.Start}
}

// failureOf classifies a final response to an INVITE as the core does (phone.Failure).
func failureOf(code int) phone.Failure {
	switch code {
	case 0:
		return phone.NoFailure
	case 401, 407, 403:
		return phone.FailureAuth
	case 404, 484, 604:
		return phone.FailureNotFound
	case 486, 600:
		return phone.FailureBusy
	case 408, 480, 487:
		return phone.FailureNoAnswer
	case 603:
		return phone.FailureDeclined
	}
	return phone.FailureRefused
}

// sendMessage sends through the dialer's account. The call blocks until the far end answers,
// so it runs in a command; the pane shows "sending" until the answer comes back.
func (m *Model) sendMessage(s messages.SendMsg) tea.Cmd {
	p := m.phone
	if p == nil {
		m.messages.SendDone(s.ID, errNoPhone)
		return nil
	}
	account := m.dialer.Account()
	m.setNotice(true, "sending message to "+common.Peer(s.Target, "")+"…")
	return func() tea.Msg {
		return messageSentMsg{id: s.ID, target: s.Target, err: p.SendMessage(account, s.Target, s.Text)}
	}
}

func (m *Model) handleSent(r messageSentMsg) {
	m.messages.SendDone(r.id, r.err)
	who := common.Peer(r.target, "")
	if r.err != nil {
		m.setNotice(false, fmt.Sprintf("message to %s: %v", who, r.err))
		return
	}
	m.setNotice(true, "message to "+who+" sent")
}

// handleMessage is the root's share of a message event (the pane has taken it already):
// a received message rings and raises a notification unless its conversation is open in
// front of the user, in which case it is read at once; History is read again either way.
func (m *Model) handleMessage(ev phone.Message, viewing bool) tea.Cmd {
	var cmds []tea.Cmd
	switch {
	case ev.Direction != phone.Incoming:
		cmds = append(cmds, m.loadConversations())
	case viewing:
		cmds = append(cmds, m.markRead(ev.Peer))
	default:
		cmds = append(cmds, m.loadConversations(),
			notify.Cmd("dialtone", "Message from "+common.Peer(ev.Peer, ev.PeerName)+": "+ev.Text))
	}
	if cur := m.messages.CurrentPeer(); cur != "" && common.PeerKey(cur) == common.PeerKey(ev.Peer) {
		cmds = append(cmds, m.loadThread(cur))
	}
	return tea.Batch(cmds...)
}

// contactsLoadedMsg is the address book read again when the dialer opened.
type contactsLoadedMsg struct{ contacts []Contact }

// reloadContacts reads the address book again for the dialer's completion, off the event loop
// (Options.ContactsNow may read a file); nil without a reader.
func (m *Model) reloadContacts() tea.Cmd {
	now := m.opts.ContactsNow
	if now == nil {
		return nil
	}
	return func() tea.Msg { return contactsLoadedMsg{contacts: now()} }
}
