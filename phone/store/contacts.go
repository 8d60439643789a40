package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode"

	"github.com/dialtone/dialtone/phone/sipaddr"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Contact is an entry of the address book: a name for one or more addresses.
type Contact struct {
	ID   int64
	Name string   // unique in any letter case and Unicode form (NameKey); stored NFC
	URIs []string // as NormalizeContactURI returns them (parameters kept), the first being the one to dial
	Note string
}

// contactsVersion is the schema version that added the address book (migrations[3]). A
// read-only file older than that has no contacts: reads return none rather than fail.
const contactsVersion = 4

// contactParamsVersion is the schema version that keeps an address's URI parameters
// (contact_uris.params). A read-only file older than that lists its addresses without.
const contactParamsVersion = 8

// ErrConflict: a contact with that name exists already, or one of the URIs belongs to
// another contact (a URI has one name, so that the history can show it).
var ErrConflict = errors.New("conflicts with another contact")

// ErrInvalidContact: the contact has no name, a name with control characters, no address,
// or an address that is not a SIP or tel URI. The error's text says which.
var ErrInvalidContact = errors.New("invalid contact")

// invalidError carries its own message and is ErrInvalidContact to errors.Is.
type invalidError struct{ error }

func (invalidError) Is(target error) bool { return target == ErrInvalidContact }

func invalid(format string, a ...any) error { return invalidError{fmt.Errorf(format, a...)} }

func (s *Store) hasContacts() bool { return s.version == 0 || s.version >= contactsVersion }

// NormalizeContactURI is the form a contact's address is stored and dialled in: an address
// without a scheme is a SIP one (bob@example.com is sip:bob@example.com), or a tel: one when
// it is a bare number ("+1 555 0100" is tel:+15550100), then
// sipaddr.Normalize (the form the history keeps peers in, so a contact's name can be found
// for a call) with the URI parameters it was given (sipaddr.Params: ";transport=tls" says how
// to reach it, and a call to the contact by name keeps it); a tel: number loses its visual
// separators (RFC 3966: "-", ".", "(", ")"). Headers ("?subject=") are dropped. Schemes other
// than sip, sips and tel are refused. ContactKey is the form without the parameters, which
// addresses are matched in.
func NormalizeContactURI(uri string) (string, error) {
	u := strings.TrimSpace(uri)
	if u == "" {
		return "", invalid("empty address")
	}
	if i := strings.IndexByte(u, ':'); i > 0 && !strings.ContainsAny(u[:i], "@<\"") {
		switch strings.ToLower(u[:i]) {
		case "sip", "sips", "tel":
		default:
			if isSchemeName(u[:i]) && !strings.Contains(u[:i], ".") {
				return "", invalid("address %q: scheme %q is not sip, sips or tel", uri, u[:i])
			}
			u = "sip:" + u // host:port
		}
	} else if isPhoneNumber(u) {
		u = "tel:" + u // "+1 555 0100": a number, as vCard import makes it, not a host named so
	} else if !strings.Contains(u, "<") {
		u = "sip:" + u
	}
	n := sipaddr.Normalize(u)
	if rest, ok := strings.CutPrefix(n, "tel:"); ok {
		n = "tel:" + strings.Map(func(r rune) rune {
			if strings.ContainsRune(telSeparators, r) {
				return -1
			}
			return r
		}, rest)
	}
	// What sipaddr took out of brackets may have any scheme, or none: check the result.
	scheme, rest, _ := strings.Cut(n, ":")
	if scheme != "sip" && scheme != "sips" && scheme != "tel" || rest == "" || strings.HasSuffix(rest, "@") || strings.HasPrefix(rest, "@") {
		return "", invalid("address %q is not a SIP or tel URI", uri)
	}
	return n + sipaddr.Params(u), nil
}

// ContactKey is the form a contact's address (as NormalizeContactURI returns it) is matched in:
// without its URI parameters, as the history keeps peers. One address has one contact,
// whatever parameters either was given with.
func ContactKey(uri string) string { return sipaddr.Normalize(uri) }

// splitContactURI splits a NormalizeContactURI address into its key and its parameters.
func splitContactURI(uri string) (key, params string) {
	key = ContactKey(uri)
	return key, strings.TrimPrefix(uri, key)
}

// telSeparators are RFC 3966's visual separators, which a tel: number loses.
const telSeparators = "-.()"

// isPhoneNumber says whether s is a bare telephone number: digits with an optional leading +
// and RFC 3966's visual separators (and spaces, as people write numbers).
func isPhoneNumber(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return false // 10.0.0.1 is a host
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ' || strings.ContainsRune(telSeparators, r):
		default:
			return false
		}
	}
	return digits > 0
}

func isSchemeName(s string) bool {
	for i, r := range s {
		if !(r < 0x80 && (unicode.IsLetter(r) || i > 0 && (unicode.IsDigit(r) || strings.ContainsRune("+-.", r)))) {
			return false
		}
	}
	return s != ""
}

// cleanContact checks and normalises a contact: a non-empty name without control
// characters, at least one address, duplicates dropped.
func cleanContact(c Contact) (Contact, error) {
	// One spelling of each name: "José" typed with a combining accent (NFD, as macOS keyboards
	// and some vCards write it) is the same name as with a precomposed é (NFC).
	c.Name = norm.NFC.String(strings.TrimSpace(c.Name))
	if c.Name == "" {
		return c, invalid("store: a contact needs a name")
	}
	if strings.IndexFunc(c.Name, unicode.IsControl) >= 0 {
		return c, invalid("store: contact name %q contains control characters", c.Name)
	}
	if len(c.URIs) == 0 {
		return c, invalid("store: contact %q needs at least one address", c.Name)
	}
	uris := make([]string, 0, len(c.URIs))
	keys := make([]string, 0, len(c.URIs))
	for _, u := range c.URIs {
		n, err := NormalizeContactURI(u)
		if err != nil {
			return c, invalid("store: contact %q: %w", c.Name, err)
		}
		if k := ContactKey(n); !slices.Contains(keys, k) { // the first spelling of an address wins
			uris, keys = append(uris, n), append(keys, k)
		}
	}
	c.URIs = uris
	return c, nil
}

// AddContact stores a new contact and returns its id. A name that exists already or an
// address that belongs to another contact is refused with ErrConflict.
func (s *Store) AddContact(ctx context.Context, c Contact) (int64, error) {
	c, err := cleanContact(c)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := nameFree(ctx, tx, c.Name, 0); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO contacts (name, note) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING id`,
			c.Name, c.Note).Scan(&id); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: contact %q: %w (the name exists)", c.Name, ErrConflict)
		} else if err != nil {
			return fmt.Errorf("store: adding contact %q: %w", c.Name, err)
		}
		return insertURIs(ctx, tx, id, c, 0)
	})
	return id, err
}

// UpdateContact replaces the name, addresses and note of the contact with c.ID.
func (s *Store) UpdateContact(ctx context.Context, c Contact) error {
	c, err := cleanContact(c)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := nameFree(ctx, tx, c.Name, c.ID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE OR IGNORE contacts SET name = ?, note = ? WHERE id = ?`, c.Name, c.Note, c.ID)
		if err != nil {
			return fmt.Errorf("store: updating contact %q: %w", c.Name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := s.contactTx(ctx, tx, "id = ?", c.ID); err != nil {
				return err
			}
			return fmt.Errorf("store: contact %q: %w (the name exists)", c.Name, ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM contact_uris WHERE contact_id = ?`, c.ID); err != nil {
			return fmt.Errorf("store: updating contact %q: %w", c.Name, err)
		}
		return insertURIs(ctx, tx, c.ID, c, 0)
	})
}

// NameKey is what makes two contact names one: the same letters in any case, in either Unicode
// form (names stored before they were kept NFC may be NFD).
func NameKey(name string) string {
	return norm.NFC.String(cases.Fold().String(norm.NFC.String(strings.TrimSpace(name))))
}

// nameFree refuses name when another contact (not id) has it in any letter case: the table's
// NOCASE folds ASCII letters only, so "Émile" and "émile" were two contacts, and a name typed
// to dial matched whichever came first.
func nameFree(ctx context.Context, tx *sql.Tx, name string, id int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, name FROM contacts WHERE id <> ?`, id)
	if err != nil {
		return fmt.Errorf("store: contact %q: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var other int64
		var n string
		if err := rows.Scan(&other, &n); err != nil {
			return fmt.Errorf("store: contact %q: %w", name, err)
		}
		if NameKey(n) == NameKey(name) {
			return fmt.Errorf("store: contact %q: %w (the name exists)", name, ErrConflict)
		}
	}
	return rows.Err()
}

func insertURIs(ctx context.Context, tx *sql.Tx, id int64, c Contact, pos int) error {
	for i, u := range c.URIs {
		key, params := splitContactURI(u)
		res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO contact_uris (contact_id, pos, uri, params) VALUES (?, ?, ?, ?)`,
			id, pos+i, key, params)
		if err != nil {
			return fmt.Errorf("store: contact %q: adding %s: %w", c.Name, u, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: contact %q: %s: %w (another contact has it)", c.Name, u, ErrConflict)
		}
	}
	return nil
}

// DeleteContact removes a contact and its addresses; ErrNotFound if there is none with id.
func (s *Store) DeleteContact(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM contacts WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("store: deleting contact %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: contact %d: %w", id, ErrNotFound)
	}
	return nil
}

// ContactByName finds a contact by its name, in any letter case and either Unicode form (NFC,
// NFD; NameKey); ErrNotFound if none.
func (s *Store) ContactByName(ctx context.Context, name string) (Contact, error) {
	name = norm.NFC.String(strings.TrimSpace(name))
	c, err := s.contactWhere(ctx, "name = ?", name) // NOCASE: ASCII letters in any case
	if !errors.Is(err, ErrNotFound) {
		return c, err
	}
	all, err := s.Contacts(ctx) // a non-ASCII letter in another case
	if err != nil {
		return Contact{}, err
	}
	for _, c := range all {
		if NameKey(c.Name) == NameKey(name) {
			return c, nil
		}
	}
	return Contact{}, fmt.Errorf("store: contact %q: %w", name, ErrNotFound)
}

// ContactByURI finds the contact an address belongs to (in any form NormalizeContactURI
// accepts); ErrNotFound if none.
func (s *Store) ContactByURI(ctx context.Context, uri string) (Contact, error) {
	n, err := NormalizeContactURI(uri)
	if err != nil {
		return Contact{}, fmt.Errorf("store: %w", err)
	}
	return s.contactWhere(ctx, "id = (SELECT contact_id FROM contact_uris WHERE uri = ?)", ContactKey(n))
}

// NameFor is the contact name of a peer, "" if the peer is no contact's (or the address is
// not one): what a display shows instead of the URI.
func (s *Store) NameFor(ctx context.Context, peer string) (string, error) {
	if !s.hasContacts() {
		return "", nil
	}
	n, err := NormalizeContactURI(peer)
	if err != nil {
		return "", nil
	}
	n = ContactKey(n)
	var name string
	// The address itself first, then its number (contacts_tel.go); "" matches no row.
	err = s.r.QueryRowContext(ctx, `SELECT c.name FROM contact_uris u JOIN contacts c ON c.id = u.contact_id
WHERE u.uri IN (?1, ?2) ORDER BY u.uri = ?1 DESC LIMIT 1`, n, TelAlias(n)).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: looking up the name of %s: %w", n, err)
	}
	return name, nil
}

// Contacts lists the whole address book by name.
func (s *Store) Contacts(ctx context.Context) ([]Contact, error) {
	return s.listContacts(ctx, "SELECT id FROM contacts")
}

// SearchContacts lists at most limit contacts whose name starts with prefix (ignoring ASCII
// case), by name: completion in the dialer. The range on the name index keeps it indexed.
func (s *Store) SearchContacts(ctx context.Context, prefix string, limit int) ([]Contact, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	// Under NOCASE, everything starting with prefix sorts at or after it and before
	// prefix followed by the highest code point.
	return s.listContacts(ctx, "SELECT id FROM contacts WHERE name >= ? AND name < ? ORDER BY name LIMIT ?",
		prefix, prefix+"\U0010FFFF", limit)
}

func (s *Store) contactWhere(ctx context.Context, where string, arg any) (Contact, error) {
	return s.contactTx(ctx, s.r, where, arg)
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) contactTx(ctx context.Context, q queryer, where string, arg any) (Contact, error) {
	if !s.hasContacts() {
		return Contact{}, fmt.Errorf("store: contact: %w", ErrNotFound)
	}
	cs, err := s.queryContacts(ctx, q, "SELECT id FROM contacts WHERE "+where, arg)
	if err != nil {
		return Contact{}, err
	}
	if len(cs) == 0 {
		return Contact{}, fmt.Errorf("store: contact: %w", ErrNotFound)
	}
	return cs[0], nil
}

func (s *Store) listContacts(ctx context.Context, ids string, args ...any) ([]Contact, error) {
	if !s.hasContacts() {
		return nil, nil
	}
	return s.queryContacts(ctx, s.r, ids, args...)
}

// queryContacts reads the contacts whose ids the subquery ids selects, with their addresses,
// by name.
func (s *Store) queryContacts(ctx context.Context, q queryer, ids string, args ...any) ([]Contact, error) {
	params := "u.params"
	if s.version != 0 && s.version < contactParamsVersion { // an older file, read-only
		params = "''"
	}
	rows, err := q.QueryContext(ctx, `
SELECT c.id, c.name, c.note, u.uri || `+params+` FROM contacts c LEFT JOIN contact_uris u ON u.contact_id = c.id
WHERE c.id IN (`+ids+`) ORDER BY c.name, c.id, u.pos`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: listing contacts: %w", err)
	}
	defer rows.Close()
	var cs []Contact
	for rows.Next() {
		var c Contact
		var uri sql.NullString
		if err := rows.Scan(&c.ID, &c.Name, &c.Note, &uri); err != nil {
			return nil, fmt.Errorf("store: reading contact: %w", err)
		}
		if len(cs) == 0 || cs[len(cs)-1].ID != c.ID {
			cs = append(cs, c)
		}
		if uri.Valid {
			last := &cs[len(cs)-1]
			last.URIs = append(last.URIs, uri.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: listing contacts: %w", err)
	}
	return cs, nil
}

// inTx runs f in a write transaction, committed if f returns nil.
func (s *Store) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}
