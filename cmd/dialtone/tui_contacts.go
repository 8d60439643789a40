package main

import (
	"context"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui"
)

// The TUI shows a contact's name wherever it shows a peer's display name: the calls pane, the
// prompt, notifications, the messages and history panes all render PeerName, so the front end
// fills PeerName from the address book on the way in (events and history reads) and the
// panes need no change. contacts_names.go says why the front end and not the core.

// contactPhone is the TUI's phone with contact names put into its events.
type contactPhone struct {
	ui.Phone
	names *contactNames
}

// withContacts wraps p; without an address book it is p itself. An empty book wraps it too:
// contacts added while the TUI runs show (contacts_names.go).
func withContacts(p ui.Phone, names *contactNames) ui.Phone {
	if names == nil {
		return p
	}
	return contactPhone{p, names}
}

// Subscribe relays p's events with names. The relay ends when p's channel closes (its
// context ended or the phone stopped), and keeps draining it if the UI's context ends first.
func (c contactPhone) Subscribe(ctx context.Context) <-chan phone.Event {
	in := c.Phone.Subscribe(ctx)
	out := make(chan phone.Event)
	go func() {
		defer close(out)
		for ev := range in {
			select {
			case out <- c.names.event(ev):
			case <-ctx.Done():
				for range in {
				}
				return
			}
		}
	}()
	return out
}

// event puts the contact name into a call's or a message's PeerName; other events pass.
func (n *contactNames) event(ev phone.Event) phone.Event {
	switch e := ev.(type) {
	case phone.CallStatus:
		if c := n.name(e.Peer); c != "" {
			e.PeerName = c
		}
		return e
	case phone.Message:
		if c := n.name(e.Peer); c != "" {
			e.PeerName = c
		}
		return e
	}
	return ev
}

// contactHistory is the TUI's history with contact names on past calls and conversations.
type contactHistory struct {
	ui.History
	names *contactNames
}

func withContactHistory(h ui.History, names *contactNames) ui.History {
	if h == nil || names == nil {
		return h
	}
	return contactHistory{h, names}
}

func (h contactHistory) Calls(limit int) ([]ui.CallRecord, error) {
	cs, err := h.History.Calls(limit)
	for i := range cs {
		if c := h.names.name(cs[i].Peer); c != "" {
			cs[i].PeerName = c
		}
	}
	return cs, err
}

func (h contactHistory) Conversations() ([]ui.Conversation, error) {
	cs, err := h.History.Conversations()
	for i := range cs {
		if c := h.names.name(cs[i].Peer); c != "" {
			cs[i].Last.PeerName = c
		}
	}
	return cs, err
}

func (h contactHistory) Thread(peer string, limit int) ([]phone.Message, error) {
	ms, err := h.History.Thread(peer, limit)
	for i := range ms {
		ms[i] = h.names.event(ms[i]).(phone.Message)
	}
	return ms, err
}

// uiContacts is the address book for the dialer's completion: each contact with the address
// to dial, its first.
func (n *contactNames) uiContacts() []ui.Contact {
	x := n.index()
	if x == nil {
		return nil
	}
	out := make([]ui.Contact, 0, len(x.list))
	for _, c := range x.list {
		if len(c.URIs) > 0 {
			out = append(out, ui.Contact{Name: c.Name, URI: c.URIs[0]})
		}
	}
	return out
}
