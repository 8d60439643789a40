package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/dialtone/dialtone/phone/store"
	"github.com/dialtone/dialtone/ui/common"
)

// contactsCmd manages the address book, which lives in the history database (--data-dir).
type contactsCmd struct {
	List   contactsListCmd   `cmd:"" default:"1" help:"List the contacts by name (the default); --json prints one object per contact."`
	Add    contactsAddCmd    `cmd:"" help:"Add a contact with one or more addresses, or add addresses to the contact of that name."`
	Remove contactsRemoveCmd `cmd:"" help:"Remove a contact, named by its name or by one of its addresses."`
	Import contactsImportCmd `cmd:"" help:"Import a vCard file (4.0, 3.0, 2.1: names, TEL, IMPP, X-SIP, NOTE), merging by name."`
	Export contactsExportCmd `cmd:"" help:"Write the contacts as vCard 4.0 to FILE, or to standard output."`
}

type contactsListCmd struct {
	Prefix string `help:"Only the contacts whose name starts with this (ignoring case)." placeholder:"PREFIX"`
}

type contactsAddCmd struct {
	Name string   `arg:"" help:"The contact's name." placeholder:"NAME"`
	URIs []string `arg:"" name:"uri" help:"SIP addresses (sip:bob@example.com, bob@example.com) or tel: numbers; the first is the one to dial." placeholder:"URI"`
	Note string   `help:"A note kept with the contact." placeholder:"TEXT"`
}

type contactsRemoveCmd struct {
	Who string `arg:"" help:"The contact's name or one of its addresses." placeholder:"NAME|URI"`
}

type contactsImportCmd struct {
	File string `arg:"" help:"The vCard file (.vcf); - for standard input." placeholder:"FILE.vcf" type:"path"`
}

type contactsExportCmd struct {
	File string `arg:"" optional:"" help:"Where to write (created with mode 0600); standard output when absent or -." placeholder:"FILE" type:"path"`
}

// contactJSON is a contact in `contacts list --json`.
type contactJSON struct {
	ID   int64    `json:"id"`
	Name string   `json:"name"`
	URIs []string `json:"uris"`
	Note string   `json:"note,omitempty"`
}

// openContacts opens the history database for the address book. A file that cannot be
// written still lists (readOnly), as `dialtone history` does.
func (e *env) openContacts(readOnly bool) (*store.Store, error) {
	path, err := e.historyPath()
	if err != nil {
		return nil, usageErr("contacts: %v", err)
	}
	s, err := store.Open(path)
	if err != nil && readOnly && !errors.Is(err, store.ErrSchemaTooNew) {
		if ro, rerr := store.OpenReadOnly(path); rerr == nil {
			s, err = ro, nil
		}
	}
	if err != nil {
		if errors.Is(err, store.ErrSchemaTooNew) {
			return nil, usageErr("contacts: %v", err)
		}
		return nil, fmt.Errorf("contacts %s: %w", path, err)
	}
	return s, nil
}

// withContacts runs f on the address book, opened as openContacts does, with its work bounded:
// an import of thousands of cards is still one transaction of milliseconds; a minute means a
// lock held by something else.
func (e *env) withContacts(readOnly bool, f func(ctx context.Context, s *store.Store) error) error {
	s, err := e.openContacts(readOnly)
	if err != nil {
		return err
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
	defer cancel()
	return f(ctx, s)
}

// Run lists the contacts: one per line (name, addresses, note), or NDJSON with --json.
func (c *contactsListCmd) Run(e *env) error {
	return e.withContacts(true, func(ctx context.Context, s *store.Store) error {
		var err error
		var cs []store.Contact
		if c.Prefix != "" {
			cs, err = s.SearchContacts(ctx, c.Prefix, 1<<30)
		} else {
			cs, err = s.Contacts(ctx)
		}
		if err != nil {
			return fmt.Errorf("contacts: %w", err)
		}
		width := 0
		for _, ct := range cs {
			width = max(width, len([]rune(ct.Name)))
		}
		for _, ct := range cs {
			if e.cli.JSON {
				b, err := json.Marshal(contactJSON{ID: ct.ID, Name: ct.Name, URIs: ct.URIs, Note: ct.Note})
				if err != nil {
					return fmt.Errorf("contacts: %w", err)
				}
				fmt.Fprintf(e.stdout, "%s\n", b)
				continue
			}
			line := fmt.Sprintf("%-*s  %s", width, ct.Name, strings.Join(ct.URIs, ", "))
			if ct.Note != "" {
				line += "  (" + oneLine(ct.Note) + ")"
			}
			// A note came from a vCard someone sent: what control characters it carries (an
			// ESC sequence, a carriage return over the line) are not for the terminal.
			fmt.Fprintln(e.stdout, common.Clean(line))
		}
		return nil
	})
}

// Run adds the contact, or the addresses to the contact of that name. Exit 2 for a bad
// address or one that belongs to another contact.
func (c *contactsAddCmd) Run(e *env) error {
	for _, u := range c.URIs {
		if _, err := store.NormalizeContactURI(u); err != nil {
			return usageErr("contacts add: %v", err)
		}
	}
	return e.withContacts(false, func(ctx context.Context, s *store.Store) error {
		old, err := s.ContactByName(ctx, c.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if _, err := s.AddContact(ctx, store.Contact{Name: c.Name, URIs: c.URIs, Note: c.Note}); err != nil {
				return contactsErr("add", err)
			}
			fmt.Fprintf(e.stdout, "added %s\n", strings.TrimSpace(c.Name))
		case err != nil:
			return fmt.Errorf("contacts add: %w", err)
		default:
			old.URIs = mergeURIs(old.URIs, c.URIs)
			if c.Note != "" {
				old.Note = c.Note
			}
			if err := s.UpdateContact(ctx, old); err != nil {
				return contactsErr("add", err)
			}
			fmt.Fprintf(e.stdout, "updated %s\n", old.Name)
		}
		return nil
	})
}

// contactsErr maps the store's refusals (a taken name or address, a bad name or address) to
// exit 2 and anything else (the disk) to 1.
func contactsErr(cmd string, err error) error {
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrInvalidContact) {
		return usageErr("contacts %s: %v", cmd, err)
	}
	return fmt.Errorf("contacts %s: %w", cmd, err)
}

// Run removes the contact named by name or address. Exit 2 when there is none.
func (c *contactsRemoveCmd) Run(e *env) error {
	return e.withContacts(false, func(ctx context.Context, s *store.Store) error {
		ct, err := s.ContactByName(ctx, c.Who)
		if errors.Is(err, store.ErrNotFound) {
			// An address: sip:…, user@host, or a bare number (tel:, as contacts add took it).
			if byURI, uerr := s.ContactByURI(ctx, c.Who); uerr == nil || !errors.Is(uerr, store.ErrInvalidContact) {
				ct, err = byURI, uerr
			}
		}
		if errors.Is(err, store.ErrNotFound) {
			return usageErr("contacts remove: no contact is named %q or has that address", c.Who)
		}
		if err != nil {
			return contactsErr("remove", err)
		}
		if err := s.DeleteContact(ctx, ct.ID); err != nil {
			return fmt.Errorf("contacts remove: %w", err)
		}
		fmt.Fprintf(e.stdout, "removed %s (%s)\n", ct.Name, strings.Join(ct.URIs, ", "))
		return nil
	})
}

// Run imports a vCard file and says what it did; skipped cards are listed on stderr. Exit 2
// for a file that cannot be read or is not vCard.
func (c *contactsImportCmd) Run(e *env) error {
	in := e.stdin
	if c.File != "-" {
		f, err := os.Open(c.File)
		if err != nil {
			return usageErr("contacts import: %v", err)
		}
		defer f.Close()
		in = f
	}
	cards, err := store.ParseVCards(in)
	if err != nil {
		return usageErr("contacts import %s: %v", c.File, err)
	}
	return e.withContacts(false, func(ctx context.Context, s *store.Store) error {
		r, err := s.ImportContacts(ctx, cards)
		if err != nil {
			return fmt.Errorf("contacts import: %w", err)
		}
		for _, sk := range r.Skipped {
			fmt.Fprintf(e.stderr, "dialtone: skipped %v\n", strings.TrimPrefix(sk.Error(), "store: "))
		}
		fmt.Fprintf(e.stdout, "%d cards: %d added, %d updated, %d unchanged, %d skipped\n",
			len(cards), r.Added, r.Updated, r.Unchanged, len(r.Skipped))
		return nil
	})
}

// Run exports the address book as vCard 4.0.
func (c *contactsExportCmd) Run(e *env) error {
	return e.withContacts(true, func(ctx context.Context, s *store.Store) error {
		cs, err := s.Contacts(ctx)
		if err != nil {
			return fmt.Errorf("contacts export: %w", err)
		}
		if c.File == "" || c.File == "-" {
			return store.WriteVCards(e.stdout, cs)
		}
		f, err := os.OpenFile(c.File, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return usageErr("contacts export: %v", err)
		}
		// An export file that cannot be written is exit 2 (README), whether at open or later
		// (a full disk).
		if err := store.WriteVCards(f, cs); err != nil {
			f.Close()
			return usageErr("contacts export %s: %v", c.File, err)
		}
		if err := f.Close(); err != nil {
			return usageErr("contacts export %s: %v", c.File, err)
		}
		fmt.Fprintf(e.stderr, "wrote %d contacts to %s\n", len(cs), c.File)
		return nil
	})
}

// mergeURIs adds the addresses typed to a contact's: one it has already (the same address in
// any spelling, store.ContactKey) takes the new spelling in its place, so that
// "contacts add Bob sip:bob@host;transport=tls" gives Bob's address the parameters; others
// come after its own.
func mergeURIs(have, add []string) []string {
	out := slices.Clone(have)
	for _, u := range add {
		n, err := store.NormalizeContactURI(u)
		if err != nil {
			out = append(out, u) // refused by the store, which says why
			continue
		}
		i := slices.IndexFunc(out, func(h string) bool { return store.ContactKey(h) == store.ContactKey(n) })
		if i < 0 {
			out = append(out, n)
			continue
		}
		out[i] = n
	}
	return out
}
