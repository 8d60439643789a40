package main

import (
	"context"
	"time"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/store"
	"github.com/dialtone/dialtone/ui"
)

// historyTimeout bounds every history read the UI asks for.
const historyTimeout = 5 * time.Second

// uiHistory adapts the SQLite store to the TUI's History.
type uiHistory struct{ s *store.Store }

func (h uiHistory) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), historyTimeout)
}

func (h uiHistory) Conversations() ([]ui.Conversation, error) {
	ctx, cancel := h.ctx()
	defer cancel()
	cs, err := h.s.Conversations(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ui.Conversation, 0, len(cs))
	for _, c := range cs {
		out = append(out, ui.Conversation{Peer: c.Peer, Last: toPhoneMessage(c.Last), Unread: c.Unread})
	}
	return out, nil
}

func (h uiHistory) Thread(peer string, limit int) ([]phone.Message, error) {
	ctx, cancel := h.ctx()
	defer cancel()
	ms, err := h.s.Messages(ctx, store.Query{Messages: true, Peer: store.NormalizePeer(peer), Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]phone.Message, len(ms))
	for i, m := range ms { // the store lists newest first; a thread reads oldest first
		out[len(ms)-1-i] = toPhoneMessage(m)
	}
	return out, nil
}

func (h uiHistory) MarkRead(peer string) error {
	ctx, cancel := h.ctx()
	defer cancel()
	return h.s.MarkRead(ctx, store.NormalizePeer(peer))
}

func (h uiHistory) Calls(limit int) ([]ui.CallRecord, error) {
	ctx, cancel := h.ctx()
	defer cancel()
	cs, err := h.s.Calls(ctx, store.Query{Calls: true, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]ui.CallRecord, 0, len(cs))
	for _, c := range cs {
		out = append(out, ui.CallRecord{Peer: c.Peer, PeerName: c.PeerName, Direction: c.Direction, Account: c.Account,
			Start: c.Start, Answered: !c.Answer.IsZero(), Duration: c.Duration, Code: c.Code, Reason: c.Reason, By: c.By})
	}
	return out, nil
}

func toPhoneMessage(m store.Message) phone.Message {
	dir := phone.Outgoing
	if m.Direction == store.Incoming {
		dir = phone.Incoming
	}
	return phone.Message{Time: m.Time, Direction: dir, Account: m.Account, Peer: m.Peer, Text: m.Text, Status: m.Status, Code: m.Code}
}

// messageTimeout bounds a message sent from the TUI.
const messageTimeout = 40 * time.Second

// SendMessage implements ui.Phone.
func (t *tuiPhone) SendMessage(account, target, text string) error {
	if account == "" {
		if names := t.ph.AccountNames(); len(names) > 0 {
			account = names[0]
		}
	}
	ctx, cancel := context.WithTimeout(t.ctx, messageTimeout)
	defer cancel()
	return t.ph.SendMessage(ctx, account, target, text)
}
