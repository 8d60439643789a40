package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/dialtone/dialtone/phone/store"
)

// TestContactNamesFollowTheFile: a long-running front end's address book shows contacts added
// and removed after it started (another terminal's `dialtone contacts add`), even when the
// history file did not exist yet; an unchanged file is not read again.
func TestContactNamesFollowTheFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := &env{ctx: ctx, cli: &cli{DataDir: dir}}
	names := e.loadContactNames()
	if got := names.name("sip:bob@example.com"); got != "" {
		t.Fatalf("no history file yet, name %q", got)
	}
	reloads := 0
	read := names.read
	names.read = func() *nameIndex { reloads++; return read() }
	recheck := func() { names.mu.Lock(); names.checked = names.checked.Add(-contactsRecheck); names.mu.Unlock() }

	s, err := store.Open(filepath.Join(dir, "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id, err := s.AddContact(ctx, store.Contact{Name: "Bob", URIs: []string{"sip:bob@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	recheck()
	if got := names.name("sip:bob@example.com"); got != "Bob" {
		t.Fatalf("after Bob was added: name %q", got)
	}
	if got := names.target("bob"); got != "sip:bob@example.com" {
		t.Errorf("after Bob was added: target %q", got)
	}
	n := reloads
	recheck()
	if names.name("sip:bob@example.com"); reloads != n {
		t.Errorf("the unchanged file was read again (%d reads, then %d)", n, reloads)
	}
	if err := s.DeleteContact(ctx, id); err != nil {
		t.Fatal(err)
	}
	recheck()
	if got := names.name("sip:bob@example.com"); got != "" {
		t.Errorf("after Bob was removed: name %q", got)
	}
	if ui := names.uiContacts(); len(ui) != 0 {
		t.Errorf("after Bob was removed: the dialer offers %v", ui)
	}
}
