package store

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// vcardBuilder collects one card's properties.
type vcardBuilder struct {
	fn, n, note string
	uris        []string
}

func (b *vcardBuilder) add(p contentLine) {
	if p.badCharset != nil {
		return // what it says cannot be read: as if it were not there
	}
	switch p.name {
	case "FN":
		if b.fn == "" {
			b.fn = strings.TrimSpace(strings.Map(noControl, unescapeText(p.value)))
		}
	case "N":
		b.n = p.value
	case "NOTE":
		if b.note == "" {
			b.note = unescapeText(p.value)
		}
	case "TEL":
		if u := telURI(p.value); u != "" {
			b.uris = append(b.uris, u)
		}
	case "IMPP", "X-SIP", "X-SIP-URI":
		// URI values are not escaped (RFC 6350 3.4 is for text).
		if u := squeeze(p.value); u != "" {
			b.uris = append(b.uris, u)
		}
	}
}

func (b *vcardBuilder) contact() Contact {
	name := b.fn
	if name == "" && b.n != "" {
		// N is family;given;additional;prefixes;suffixes: "given family" reads as a name.
		parts := splitUnescaped(b.n)
		var words []string
		for _, i := range []int{3, 1, 2, 0, 4} {
			if i < len(parts) {
				if w := strings.TrimSpace(unescapeText(parts[i])); w != "" {
					words = append(words, w)
				}
			}
		}
		name = strings.Join(words, " ")
	}
	return Contact{Name: strings.TrimSpace(strings.Map(noControl, name)), URIs: b.uris, Note: b.note}
}

// noControl drops control characters from names: they are one line in every display.
func noControl(r rune) rune {
	if unicode.IsControl(r) {
		return -1
	}
	return r
}

// squeeze removes white space and control characters, which no URI contains but exports
// put inside numbers ("+1 555 0100") and which would break a line when written back.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f || unicode.IsSpace(r) || unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// telURI turns a TEL value into a URI: one with a scheme (tel:, sip:) as it is, a plain
// number (3.0 and 2.1 TEL values are text) as tel: with the visual separators dropped.
func telURI(v string) string {
	v = squeeze(v)
	if i := strings.IndexByte(v, ':'); i > 0 {
		return v
	}
	v = strings.Map(func(r rune) rune {
		if strings.ContainsRune("-.()/", r) {
			return -1
		}
		return r
	}, v)
	if v == "" {
		return ""
	}
	return "tel:" + v
}

// WriteVCards writes contacts as vCard 4.0 (RFC 6350): FN and, as 3.0 readers require one,
// N with the whole name as the given name; sip: and sips: addresses as IMPP, tel: ones as
// TEL;VALUE=uri; NOTE. Lines end in CRLF and are folded at 75 octets, never inside a UTF-8
// sequence.
func WriteVCards(w io.Writer, cs []Contact) error {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString("BEGIN:VCARD\r\nVERSION:4.0\r\n")
		writeFolded(&b, "FN:"+escapeText(c.Name))
		writeFolded(&b, "N:;"+escapeText(c.Name)+";;;")
		for _, u := range c.URIs {
			u = squeeze(u)
			if strings.HasPrefix(strings.ToLower(u), "tel:") {
				writeFolded(&b, "TEL;VALUE=uri:"+u)
			} else {
				writeFolded(&b, "IMPP:"+u)
			}
		}
		if c.Note != "" {
			writeFolded(&b, "NOTE:"+escapeText(c.Note))
		}
		b.WriteString("END:VCARD\r\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("vcard: writing: %w", err)
	}
	return nil
}

// escapeText escapes a text value (RFC 6350 3.4); CR and CRLF become a newline, \n.
func escapeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.NewReplacer(`\`, `\\`, ",", `\,`, ";", `\;`, "\n", `\n`).Replace(s)
}

// writeFolded writes one content line folded at 75 octets: CRLF and a space before the
// continuation (RFC 6350 3.2), at a rune boundary so that each line is valid UTF-8.
func writeFolded(b *strings.Builder, line string) {
	const max = 75
	width := max
	for len(line) > width {
		cut := width
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		b.WriteString(line[:cut])
		b.WriteString("\r\n ")
		line = line[cut:]
		width = max - 1 // the leading space counts
	}
	b.WriteString(line)
	b.WriteString("\r\n")
}
