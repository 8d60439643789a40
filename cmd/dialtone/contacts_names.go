package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/dialtone/dialtone/phone/store"
	"golang.org/x/text/unicode/norm"
)

// contactNames is the address book as the front ends show it: a peer's contact name in place
// of its URI. The front end looks names up rather than the phone core filling
// CallStatus.PeerName from contacts: the core knows nothing of the store, the history keeps the
// name the peer sent (a contact renamed later shows its new name on old calls), and the name is
// a display matter. nil knows no names.
//
// A long-running front end (the TUI, answer, serve) sees contacts added, renamed or removed
// while it runs (`dialtone contacts add` in another terminal): a lookup reads the address book
// again when the history file has changed since the last read, looking at the file no more
// often than every contactsRecheck and only when a name is wanted, so an idle phone never
// wakes for it.
type contactNames struct {
	path string            // the history file
	read func() *nameIndex // reads its address book (nil on failure); nil: the names are fixed

	mu      sync.Mutex
	cur     *nameIndex
	seen    fileStamp
	checked time.Time
}

// nameIndex is one reading of the address book.
type nameIndex struct {
	byURI map[string]string // store.ContactKey form -> name
	list  []store.Contact   // by name, for the TUI's dialer completion
}

// contactsRecheck is how stale a name may be: a contact added shows within this long.
const contactsRecheck = 2 * time.Second

// fileStamp tells one state of the history file from another: the database's and its
// write-ahead log's sizes and modification times (a write lands in the log first).
type fileStamp [4]int64

func stampOf(path string) fileStamp {
	var st fileStamp
	for i, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			st[2*i], st[2*i+1] = fi.Size(), fi.ModTime().UnixNano()
		}
	}
	return st
}

// loadContactNames is the address book in the history file, read-only and read again when the
// file changes: a missing file, an old schema or an unreadable one just means no names (said
// at debug level), never a failed command.
func (e *env) loadContactNames() *contactNames {
	path, err := e.historyPath()
	if err != nil {
		return nil
	}
	n := &contactNames{path: path}
	n.read = func() *nameIndex {
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
		return indexNames(cs)
	}
	n.index() // the first reading
	return n
}

// newContactNames is a fixed address book of cs.
func newContactNames(cs []store.Contact) *contactNames {
	return &contactNames{cur: indexNames(cs)}
}

func indexNames(cs []store.Contact) *nameIndex {
	x := &nameIndex{byURI: map[string]string{}, list: cs}
	for _, c := range cs {
		for _, u := range c.URIs {
			x.byURI[store.ContactKey(u)] = c.Name
		}
	}
	return x
}

// index is the address book now: the last reading, or a new one if the file changed.
func (n *contactNames) index() *nameIndex {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.read == nil || time.Since(n.checked) < contactsRecheck {
		return n.cur
	}
	n.checked = time.Now()
	// The stamp before the read: a write during the read is seen at the next look.
	if st := stampOf(n.path); st != n.seen {
		n.seen, n.cur = st, nil
		if st != (fileStamp{}) { // no file (yet): no names
			n.cur = n.read()
		}
	}
	return n.cur
}

// name is peer's contact name, "" if it has none: the contact of the address itself, else of
// its number (store.TelAlias).
func (n *contactNames) name(peer string) string {
	x := n.index()
	if x == nil || peer == "" {
		return ""
	}
	u, err := store.NormalizeContactURI(peer)
	if err != nil {
		return ""
	}
	u = store.ContactKey(u) // a call from sip:bob@host;transport=tls is bob's
	if c, ok := x.byURI[u]; ok {
		return c
	}
	if tel := store.TelAlias(u); tel != "" { // a provider's sip:+number@host, a contact's tel:
		return x.byURI[tel]
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
	x := n.index()
	if x == nil || t == "" || strings.ContainsAny(t, ":@") {
		return typed
	}
	t = norm.NFC.String(t)
	// The name as written first (either Unicode form), then in any letter case: older files may
	// hold two names that differ only in a non-ASCII letter's case, and the one typed wins.
	for _, fold := range []bool{false, true} {
		for _, c := range x.list {
			if (norm.NFC.String(c.Name) == t || fold && store.NameKey(c.Name) == store.NameKey(t)) && len(c.URIs) > 0 {
				return c.URIs[0]
			}
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
