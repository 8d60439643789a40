// Package sipaddr normalises SIP addresses for matching: the history store keeps peers in this
// form and the UI matches live events against them with the same function.
package sipaddr

import "strings"

// Normalize reduces a SIP address to the form peers are stored and
// looked up in, so that the same person is one conversation however their
// address was written: it takes the URI out of a name-addr (display name
// and angle brackets), drops URI parameters and headers, and lower-cases
// the scheme and host. The user part keeps its case (RFC 3261 compares it
// case-sensitively) and its own parameters (sip:alice;day=tuesday@host).
//
//	"Bob" <sip:Bob@Example.COM;transport=tcp>;tag=1  ->  sip:Bob@example.com
//
// It never fails: text that is not a URI comes back cleaned but otherwise
// as it was. It is idempotent, Normalize(Normalize(s)) ==
// Normalize(s), which phone/store's FuzzNormalizePeer checks; the steps are chosen so
// that the output contains nothing a second pass would act on. Percent
// escapes are not decoded (sip:%62ob and sip:bob stay different).
func Normalize(uri string) string {
	addr := clean(extractAddr(uri))
	scheme, rest := splitScheme(addr)
	var b strings.Builder
	b.Grow(len(addr))
	if scheme != "" {
		b.WriteString(scheme)
		b.WriteByte(':')
	}
	// The user part may contain ';' and '?' but never an unescaped '@', and
	// the host part never contains '@': the last '@' is the separator.
	host := rest
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		b.WriteString(rest[:at+1])
		host = rest[at+1:]
	}
	if i := strings.IndexAny(host, ";?"); i >= 0 {
		host = host[:i] // URI parameters and headers
	}
	b.WriteString(lowerASCII(host))
	return b.String()
}

// extractAddr returns the URI inside the angle brackets of a name-addr,
// skipping a quoted display name (which may itself contain '<'), or s
// itself if it has no brackets. It returns s unchanged when s contains no
// '<' and no '"', which is what makes NormalizePeer idempotent.
func extractAddr(s string) string {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++ // quoted-pair: the next byte is literal
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == '<':
			rest := s[i+1:]
			if j := strings.IndexByte(rest, '>'); j >= 0 {
				return rest[:j]
			}
			return rest
		}
	}
	return s
}

// Params returns the URI parameters of a SIP address, as Normalize drops them: the host
// part's ";name=value..." up to any headers ("?..."), cleaned as Normalize cleans, or "".
// They say how to reach the address (";transport=tls", ";user=phone"), which an address
// book must keep to dial it; a name-addr's own parameters (";tag=") are not the URI's.
//
//	"Bob" <sip:bob@example.com;transport=tls?subject=x>;tag=1  ->  ;transport=tls
func Params(uri string) string {
	_, rest := splitScheme(clean(extractAddr(uri)))
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		rest = rest[:q]
	}
	i := strings.IndexByte(rest, ';')
	if i < 0 {
		return ""
	}
	return strings.TrimRight(rest[i:], ";")
}

// clean drops bytes that cannot be part of a SIP URI but would make a
// second pass parse differently: whitespace and control characters (folded
// headers, pasted text) and leftover brackets and quotes.
func clean(s string) string {
	keep := func(c byte) bool { return c > ' ' && c != 0x7f && c != '<' && c != '>' && c != '"' }
	for i := 0; i < len(s); i++ {
		if !keep(s[i]) {
			b := []byte(s[:i])
			for ; i < len(s); i++ {
				if keep(s[i]) {
					b = append(b, s[i])
				}
			}
			return string(b)
		}
	}
	return s
}

// splitScheme splits "scheme:rest", lower-casing the scheme. Without a
// valid RFC 3986 scheme before the first ':' there is no scheme and rest
// is s.
func splitScheme(s string) (scheme, rest string) {
	i := strings.IndexByte(s, ':')
	if i <= 0 || !isScheme(s[:i]) {
		return "", s
	}
	return lowerASCII(s[:i]), s[i+1:]
}

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// lowerASCII lower-cases ASCII letters only: host names are ASCII (IDNs
// travel as punycode), and a byte-wise mapping cannot change the length or
// the meaning of other bytes, unlike strings.ToLower on invalid UTF-8.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
