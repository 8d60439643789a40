package store

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dialtone/dialtone/phone/charset"
)

// MaxVCardSize bounds what ParseVCards reads: an address book is kilobytes to a few
// megabytes (photos included); more is not an address book.
const MaxVCardSize = 32 << 20

// ParseVCards reads vCards (RFC 6350 4.0, RFC 2426 3.0, and the 2.1 that phones still
// export) and returns one Contact per card, in file order, with its raw addresses: TEL
// (tel: and sip: URIs, or a plain number, which becomes tel:), IMPP (sip:, sips:; other
// schemes are kept and later dropped by ImportContacts), X-SIP and X-SIP-URI (Android), FN
// (else the given and family names of N) and NOTE. Lines may be folded and end in CRLF or
// LF; text is unescaped; quoted-printable values (2.1) are decoded. Other properties
// (photos, e-mail, addresses) are skipped. A card without a name or an address is returned
// as it is: the importer says why it skips it.
func ParseVCards(r io.Reader) ([]Contact, error) {
	lines, err := unfold(r)
	if err != nil {
		return nil, err
	}
	var cards []Contact
	var cur *vcardBuilder
	depth := 0 // a 2.1 AGENT may nest a whole card: its properties are not ours
	for _, l := range lines {
		if strings.TrimSpace(l.text) == "" {
			continue
		}
		p, err := parseContentLine(l.text)
		if err != nil {
			return nil, fmt.Errorf("vcard line %d: %w", l.no, err)
		}
		switch {
		case p.name == "BEGIN" && strings.EqualFold(strings.TrimSpace(p.value), "VCARD"):
			if depth == 0 {
				cur = &vcardBuilder{}
			}
			depth++
		case p.name == "END" && strings.EqualFold(strings.TrimSpace(p.value), "VCARD"):
			if depth == 0 {
				return nil, fmt.Errorf("vcard line %d: END:VCARD without BEGIN:VCARD", l.no)
			}
			depth--
			if depth == 0 {
				cards = append(cards, cur.contact())
				cur = nil
			}
		case depth == 0:
			return nil, fmt.Errorf("vcard line %d: %q outside BEGIN:VCARD ... END:VCARD", l.no, p.name)
		case depth == 1:
			cur.add(p)
		}
	}
	if depth > 0 {
		return nil, errors.New("vcard: the last card has no END:VCARD")
	}
	return cards, nil
}

type vcardLine struct {
	no   int
	text string
}

// unfold splits the input into logical lines: a line starting with a space or tab continues
// the previous one (RFC 6350 3.2), and so does the line after a quoted-printable soft break
// ("=" at the end of a 2.1 QUOTED-PRINTABLE value).
func unfold(r io.Reader) ([]vcardLine, error) {
	lr := &io.LimitedReader{R: r, N: MaxVCardSize + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 4096), MaxVCardSize)
	var out []vcardLine
	qpSoft := false
	for no := 1; sc.Scan(); no++ {
		t := strings.TrimSuffix(sc.Text(), "\r")
		if no == 1 {
			t = strings.TrimPrefix(t, "\uFEFF") // a byte order mark, as some exports begin
		}
		switch {
		case len(out) > 0 && qpSoft:
			out[len(out)-1].text = out[len(out)-1].text[:len(out[len(out)-1].text)-1] + strings.TrimLeft(t, " \t")
		case len(out) > 0 && t != "" && (t[0] == ' ' || t[0] == '\t'):
			out[len(out)-1].text += t[1:]
		default:
			out = append(out, vcardLine{no, t})
		}
		last := out[len(out)-1].text
		qpSoft = strings.HasSuffix(last, "=") && isQuotedPrintable(last)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("vcard: reading: %w", err)
	}
	if lr.N <= 0 {
		return nil, fmt.Errorf("vcard: more than %d bytes", MaxVCardSize)
	}
	return out, nil
}

func isQuotedPrintable(line string) bool {
	colon := strings.IndexByte(line, ':')
	return colon > 0 && strings.Contains(strings.ToUpper(line[:colon]), "QUOTED-PRINTABLE")
}

type contentLine struct {
	name   string              // upper case, group removed
	params map[string][]string // upper-case names; 2.1 bare types ("TEL;CELL") under TYPE
	value  string              // raw: not unescaped
	// badCharset: the value's CHARSET could not be read; the property is left out (a card's
	// PHOTO or ADR in an odd charset must not stop the whole import).
	badCharset error
}

// parseContentLine splits [group.]name *(;param) ":" value. Parameter values may be quoted
// and then contain ':' and ';'.
func parseContentLine(s string) (contentLine, error) {
	var p contentLine
	i := strings.IndexAny(s, ";:")
	if i < 0 {
		return p, fmt.Errorf("no ':' in %q", clip(s))
	}
	p.name = strings.ToUpper(strings.TrimSpace(s[:i]))
	if dot := strings.LastIndexByte(p.name, '.'); dot >= 0 {
		p.name = p.name[dot+1:]
	}
	if p.name == "" {
		return p, fmt.Errorf("no property name in %q", clip(s))
	}
	rest := s[i:]
	for rest != "" && rest[0] == ';' {
		rest = rest[1:]
		j, inQuote := 0, false
		for ; j < len(rest); j++ {
			c := rest[j]
			if c == '"' {
				inQuote = !inQuote
			} else if !inQuote && (c == ';' || c == ':') {
				break
			}
		}
		if p.params == nil {
			p.params = map[string][]string{}
		}
		k, v, ok := strings.Cut(rest[:j], "=")
		k = strings.ToUpper(strings.TrimSpace(k))
		if !ok {
			k, v = "TYPE", k
		}
		for _, x := range strings.Split(v, ",") {
			p.params[k] = append(p.params[k], strings.Trim(x, `"`))
		}
		rest = rest[j:]
	}
	if rest == "" {
		return p, fmt.Errorf("no ':' in %q", clip(s))
	}
	p.value = rest[1:]
	if enc := p.params["ENCODING"]; len(enc) > 0 && strings.EqualFold(enc[0], "QUOTED-PRINTABLE") {
		p.value = decodeQP(p.value)
	}
	if cs := p.params["CHARSET"]; len(cs) > 0 {
		// vCard 2.1 (older phones, Outlook) names the value's charset: "Jos=E9" in ISO-8859-1
		// is José. Read as UTF-8, José and Josè both became "Jos\uFFFD", and merged by name.
		if v, err := charset.Decode(cs[0], []byte(p.value)); err != nil {
			p.badCharset = fmt.Errorf("%s: %w", p.name, err)
		} else {
			p.value = v
		}
	}
	p.value = strings.ToValidUTF8(p.value, "\uFFFD")
	return p, nil
}

func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// decodeQP decodes quoted-printable leniently: a malformed escape stays as it is.
func decodeQP(s string) string {
	if !strings.Contains(s, "=") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '=' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// unescapeText undoes RFC 6350 3.4 escaping: \\ \, \; \n (and \N); an unknown escape keeps
// the character, as 3.0 writers escape ':' too.
func unescapeText(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		if s[i] == 'n' || s[i] == 'N' {
			b.WriteByte('\n')
		} else {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// splitUnescaped splits a structured value (N) at ';' not preceded by a backslash.
func splitUnescaped(s string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ';':
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
