package dialer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dialtone/dialtone/ui/common"
	"golang.org/x/text/unicode/norm"
)

// Contact is an address-book entry the dialer completes: typing the start of its name (or of
// any word of it) offers URI, which Tab puts in the field; Enter on the whole name dials it.
type Contact struct {
	Name, URI string
}

// SetContacts sets the address book, in the order matches are offered (by name).
func (m *Model) SetContacts(cs []Contact) {
	m.contacts = append(m.contacts[:0:0], cs...)
}

// ContactMatch is the contact the typed text names, when no dialled target extends it:
// the first whose name starts with the text (ignoring case), else the first with a word
// that does. Text that looks like an address (':' or '@') matches none.
func (m *Model) ContactMatch() (Contact, bool) {
	v := norm.NFC.String(strings.TrimSpace(m.in.Value())) // either Unicode form, as Enter takes it
	if v == "" || strings.ContainsAny(v, ":@") || m.in.Suggestion() != "" {
		return Contact{}, false
	}
	for _, c := range m.contacts {
		if hasPrefixFold(norm.NFC.String(c.Name), v) {
			return c, true
		}
	}
	for _, c := range m.contacts {
		for _, w := range strings.FieldsFunc(norm.NFC.String(c.Name), func(r rune) bool { return unicode.IsSpace(r) || r == '-' }) {
			if hasPrefixFold(w, v) {
				return c, true
			}
		}
	}
	return Contact{}, false
}

// completeContact puts the matching contact's address in the field (Tab); false when there
// is none and Tab is the field's own.
func (m *Model) completeContact() bool {
	c, ok := m.ContactMatch()
	if ok {
		m.in.SetValue(c.URI)
	}
	return ok
}

// contactTarget is what Enter dials for target: the address of the contact whose whole
// name it is, else target as typed.
func (m *Model) contactTarget(target string) string {
	t := norm.NFC.String(target)
	for _, fold := range []bool{false, true} { // as written first (either Unicode form), then in another case
		for _, c := range m.contacts {
			if n := norm.NFC.String(c.Name); n == t || fold && strings.EqualFold(n, t) {
				return c.URI
			}
		}
	}
	return target
}

// contactHint is what the dialer shows for a match: "⇥ Name <address>".
func (m *Model) contactHint() string {
	c, ok := m.ContactMatch()
	if !ok {
		return ""
	}
	return "⇥ " + common.Peer(c.URI, c.Name)
}

// hasPrefixFold reports whether s starts with prefix, ignoring case (Unicode simple folding).
func hasPrefixFold(s, prefix string) bool {
	for prefix != "" {
		if s == "" {
			return false
		}
		r1, n1 := utf8.DecodeRuneInString(s)
		r2, n2 := utf8.DecodeRuneInString(prefix)
		if r1 != r2 && unicode.ToLower(r1) != unicode.ToLower(r2) && unicode.SimpleFold(r1) != r2 {
			return false
		}
		s, prefix = s[n1:], prefix[n2:]
	}
	return true
}
