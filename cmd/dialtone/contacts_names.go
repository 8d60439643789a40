package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/dialtone/dialtone/phone/store"
)

// contactNames is the address book as the front ends show it: a peer's contact name in place
// of its URI. The front end looks names up rather than the phone core filling
// CallStatus.PeerName from contacts: the core knows nothing of the store, the history keeps the
// name the peer sent (a contact renamed later shows its new name on old calls), and the name is
// a display matter. It is loaded once (an address book is small) and read without locks; nil
// knows no names.
type contactNames struct {
	byURI map[string]string // NormalizeContactURI form -> name
	list  []store.Contact   // by name, for the TUI's dialer completion
}

// loadContactNames reads the address book from the history file, read-only: a missing file,
// an old schema or an unreadable one just means no names (said at debug level), never a
// failed command.
func (e *env) loadContactNames() *contactNames {
	path, err := e.historyPath()
	if err != nil {
		return nil
	}
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	s, err := store.OpenReadOnly(path)
	if err != nil {
		e.debug("contacts: not showing names", err)
		return nil
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	cs, err := s.Contacts(ctx)
	if err != nil {
		e.debug("contacts: not showing names", err)
		return nil
	}
	return newContactNames(cs)
}

func newContactNames(cs []store.Contact) *contactNames {
	n := &contactNames{byURI: map[string]string{}, list: cs}
	for _, c := range cs {
		for _, u := range c.URIs {
			n.byURI[u] = c.Name
		}
	}
	return n
}

// name is peer's contact name, "" if it has none: the contact of the address itself, else of
// its number (store.TelAlias).
func (n *contactNames) name(peer string) string {
	if n == nil || peer == "" {
		return ""
	}
	u, err := store.NormalizeContactURI(peer)
	if err != nil {
		return ""
	}
	if c, ok := n.byURI[u]; ok {
		return c
	}
	if tel := store.TelAlias(u); tel != "" { // a provider's sip:+number@host, a contact's tel:
		return n.byURI[tel]
	}
	return ""
}

// target is what a command dials or messages for what the user typed: the first address of
// the contact whose name it is (ignoring case, as names are unique), else the text as typed.
// A name wins over a bare user part, as Enter does in the TUI's dialer: with a contact
// "Bob", `dialtone call bob` calls Bob's address, not sip:bob@ the account's domain. Text
// that is an address (a ':' or '@') is never a name.
func (n *contactNames) target(typed string) string {
	t := strings.TrimSpace(typed)
	if n == nil || t == "" || strings.ContainsAny(t, ":@") {
		return typed
	}
	for _, c := range n.list {
		if strings.EqualFold(c.Name, t) && len(c.URIs) > 0 {
			return c.URIs[0]
		}
	}
	return typed
}

// label is how a peer is shown in one line: "Name <uri>" for a contact, else the display
// name the peer sent in the same form, else the URI.
func (n *contactNames) label(peer, displayName string) string {
	if c := n.name(peer); c != "" {
		return fmt.Sprintf("%s <%s>", c, peer)
	}
	if displayName != "" {
		return fmt.Sprintf("%q <%s>", displayName, peer)
	}
	return peer
}

// contactNamesOf reads the names from an open store; nil when it cannot (the listing then
// shows URIs, as before there were contacts).
func contactNamesOf(ctx context.Context, s *store.Store) *contactNames {
	cs, err := s.Contacts(ctx)
	if err != nil {
		return nil
	}
	return newContactNames(cs)
}

func (e *env) debug(msg string, err error) {
	if e.log != nil {
		e.log.Debug(msg, "err", err)
	}
}
