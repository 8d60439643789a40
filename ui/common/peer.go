package common

import "strings"

// PeerKey reduces a SIP address to the form conversations and calls are matched by, so one
// person is one conversation however their address was written: the URI out of a name-addr
// (display name and angle brackets), without URI parameters and headers, with the scheme and
// host in lower case. The user part keeps its case.
//
//	"Bob" <sip:Bob@Example.COM;transport=tcp>;tag=1  ->  sip:Bob@example.com
//
// It is the normalisation the history store applies to the peers it keeps (phone/store's
// NormalizePeer, which the UI may not import), so a peer from a live event and the same peer
// read back from History compare equal.
func PeerKey(uri string) string {
	addr := keepURIBytes(nameAddrURI(uri))
	scheme, rest := "", addr
	if i := strings.IndexByte(addr, ':'); i > 0 && isScheme(addr[:i]) {
		scheme, rest = lowerASCII(addr[:i]), addr[i+1:]
	}
	var b strings.Builder
	if scheme != "" {
		b.WriteString(scheme)
		b.WriteByte(':')
	}
	host := rest
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		b.WriteString(rest[:at+1])
		host = rest[at+1:]
	}
	if i := strings.IndexAny(host, ";?"); i >= 0 {
		host = host[:i]
	}
	b.WriteString(lowerASCII(host))
	return b.String()
}

// nameAddrURI returns the URI inside the angle brackets of a name-addr, skipping a quoted
// display name, or s itself when it has none.
func nameAddrURI(s string) string {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
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

// keepURIBytes drops whitespace, control bytes and stray brackets and quotes.
func keepURIBytes(s string) string {
	keep := func(c byte) bool { return c > ' ' && c != 0x7f && c != '<' && c != '>' && c != '"' }
	var b []byte
	for i := 0; i < len(s); i++ {
		switch {
		case keep(s[i]) && b != nil:
			b = append(b, s[i])
		case !keep(s[i]) && b == nil:
			b = append([]byte{}, s[:i]...)
		}
	}
	if b == nil {
		return s
	}
	return string(b)
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

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
