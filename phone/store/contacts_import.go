package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ImportResult counts what ImportContacts did.
type ImportResult struct {
	Added, Updated, Unchanged int
	// Skipped are the entries not imported, each with why (no name, no usable address, or
	// every address belonging to another contact).
	Skipped []error
}

// ImportContacts merges contacts into the address book in one transaction, so importing
// the same file twice changes nothing: an entry whose name exists gains the addresses it
// does not have yet (and its note, if the stored one is empty); a new name becomes a new
// contact. An address that belongs to another contact stays where it is. Entries that
// cannot be stored are skipped and reported, not fatal.
func (s *Store) ImportContacts(ctx context.Context, cs []Contact) (ImportResult, error) {
	var r ImportResult
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		r = ImportResult{}
		names, err := nameIDs(ctx, tx) // the names there are, by NameKey: one read, not one a card
		if err != nil {
			return err
		}
		for _, c := range cs {
			if err := s.importOne(ctx, tx, c, &r, names); err != nil {
				return err
			}
		}
		return nil
	})
	return r, err
}

// nameIDs maps each contact's NameKey to its id.
func nameIDs(ctx context.Context, tx *sql.Tx) (map[string]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, name FROM contacts`)
	if err != nil {
		return nil, fmt.Errorf("store: importing: %w", err)
	}
	defer rows.Close()
	m := map[string]int64{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("store: importing: %w", err)
		}
		m[NameKey(name)] = id
	}
	return m, rows.Err()
}

// importOne merges c; names maps the contacts' names (NameKey) to their ids, and gains c's when
// it is added, so that "Émile" and "émile" in one file, or one already there, are one contact.
func (s *Store) importOne(ctx context.Context, tx *sql.Tx, c Contact, r *ImportResult, names map[string]int64) error {
	c, err := cleanImport(c)
	if err != nil {
		r.Skipped = append(r.Skipped, err)
		return nil
	}
	var old Contact
	oldID, exists := names[NameKey(c.Name)]
	if exists {
		if old, err = s.contactTx(ctx, tx, "id = ?", oldID); err != nil {
			return err
		}
	}
	var fresh []string
	for _, u := range c.URIs {
		var owner int64
		err := tx.QueryRowContext(ctx, `SELECT contact_id FROM contact_uris WHERE uri = ?`, ContactKey(u)).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) {
			fresh = append(fresh, u)
		} else if err != nil {
			return fmt.Errorf("store: importing %q: %w", c.Name, err)
		}
	}
	switch {
	case exists:
		changed := len(fresh) > 0
		if old.Note == "" && c.Note != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE contacts SET note = ? WHERE id = ?`, c.Note, old.ID); err != nil {
				return fmt.Errorf("store: importing %q: %w", c.Name, err)
			}
			changed = true
		}
		if err := insertURIs(ctx, tx, old.ID, Contact{Name: c.Name, URIs: fresh}, len(old.URIs)); err != nil {
			return err
		}
		if changed {
			r.Updated++
		} else {
			r.Unchanged++
		}
	case len(fresh) == 0:
		r.Skipped = append(r.Skipped, fmt.Errorf("%q: every address belongs to another contact", c.Name))
	default:
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO contacts (name, note) VALUES (?, ?) RETURNING id`, c.Name, c.Note).Scan(&id); err != nil {
			return fmt.Errorf("store: importing %q: %w", c.Name, err)
		}
		if err := insertURIs(ctx, tx, id, Contact{Name: c.Name, URIs: fresh}, 0); err != nil {
			return err
		}
		names[NameKey(c.Name)] = id
		r.Added++
	}
	return nil
}

// cleanImport is cleanContact for an imported entry: addresses that are not SIP or tel are
// dropped (a vCard's other IMPP schemes), not fatal, as long as one remains.
func cleanImport(c Contact) (Contact, error) {
	var uris []string
	for _, u := range c.URIs {
		if _, err := NormalizeContactURI(u); err == nil {
			uris = append(uris, u)
		}
	}
	c.URIs = uris
	return cleanContact(c)
}
