package phone

// sipgo (v1.7.3) checks each parameter of a header or URI against every one before it, so the
// time to parse a list of parameters grows with the square of its length: a datagram of 32 KB
// (the most sipgo reads of one) whose To URI carries 6400 of them (";paaa;pbaa…") cost 93 ms
// of CPU, so anyone who can reach our UDP port kept a CPU busy with ten a second (320 KB/s).
// sipgo v1.7.4 refuses lists of more than 100, but its connection pool also stops finding TCP
// connections by local address, which the flows and failover here rely on (flow.go,
// failover.go). So the screen (scanner.go) drops such datagrams before sipgo sees them.
//
// The count follows sipgo's parser, so that no list it parses is longer than counted:
//   - a line ends at CRLF only (a bare CR or LF is a byte of the line, as to sipgo), a CRLF
//     followed by a space or tab folds the next line into it, and the head ends at CRLF CRLF;
//   - the request line is one list (the Request-URI's parameters and headers);
//   - of the headers, only those sipgo parses are counted: From, To and Referred-By as one
//     list each; Contact, Route, Record-Route and Refer-To value by value, split at commas
//     outside quotes and angle brackets; Via value by value, split at every comma. Others
//     (P-Asserted-Identity, Session-Expires…) sipgo keeps as text.
//
// A value's URI parameters and its header parameters are counted together, so the limit is
// twice as strict as sipgo v1.7.4's. No real message comes near it: a Contact with RFC 5626 and
// RFC 3840 feature tags has a dozen or two, and a registrar that lists every binding of an
// address on one Contact line (Kamailio does) lists them as values, each counted on its own.
const maxHeaderParams = 100

// tooManyParams reports whether a list of parameters sipgo would parse in data, a datagram,
// may hold more than maxHeaderParams: n separators (';' of parameters, '?' and '&' of URI
// headers) make n+1 parameters when something stands before the first (sipgo takes the "x" of
// "<sip:a@b>x;y" as one, FuzzTooManyParams found). The body is not looked at. Linear and
// allocation-free: it runs on every datagram.
func tooManyParams(data []byte) bool {
	var g paramCount
	g.counted, g.split = true, splitNever // the start line
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			next := i + 2
			if next < len(data) && (data[next] == ' ' || data[next] == '\t') {
				i++
				continue // a folded line goes on: the same header
			}
			if next+1 < len(data) && data[next] == '\r' && data[next+1] == '\n' {
				return false // the empty line: the body follows
			}
			g = paramCount{naming: true}
			i++
			continue
		}
		if g.naming {
			g.name(c)
			continue
		}
		if g.counted && g.add(c) {
			return true
		}
	}
	return false
}

// How a header's value is split into values, each a list of its own.
const (
	splitNever    = iota // From, To, Referred-By, the request line
	splitOutside         // Contact, Route, Record-Route, Refer-To: commas outside "" and <>
	splitAnyComma        // Via
)

// paramCount is tooManyParams's state on one line.
type paramCount struct {
	naming   bool     // reading the header's name, up to its colon
	nameBuf  [16]byte // the name, lower case, when it fits
	nameLen  int      // its length (more than fits: no header we count)
	counted  bool     // a header whose parameters sipgo parses
	split    int
	n        int // separators in the value so far
	inQuotes bool
	inAngle  bool
}

// name takes one byte of the header's name; at the colon it decides how the value is counted.
// sipgo trims the name with bytes.TrimSpace, which takes any Unicode white space off its ends
// (LF, VT, FF, NEL, NBSP…): so every white-space byte and every byte of a non-ASCII character
// is left out here, wherever it stands, and "\vTo" or "To\u0085" is counted as To. (Leaving
// out more than sipgo does can only count a header sipgo would not parse.)
func (g *paramCount) name(c byte) {
	if c != ':' {
		switch {
		case c == ' ', c == '\t', c == '\n', c == '\v', c == '\f', c == '\r', c >= 0x80:
		default:
			if g.nameLen < len(g.nameBuf) {
				g.nameBuf[g.nameLen] = lower(c)
			}
			g.nameLen++
		}
		return
	}
	g.naming = false
	if g.nameLen > len(g.nameBuf) {
		return
	}
	switch string(g.nameBuf[:g.nameLen]) {
	case "from", "f", "to", "t", "referred-by", "b":
		g.counted, g.split = true, splitNever
	case "contact", "m", "route", "record-route", "refer-to", "r":
		g.counted, g.split = true, splitOutside
	case "via", "v":
		g.counted, g.split = true, splitAnyComma
	}
}

// add takes one byte of a counted value; true when a list has grown past maxHeaderParams.
func (g *paramCount) add(c byte) bool {
	switch c {
	case ';', '?', '&':
		g.n++
		return g.n+1 > maxHeaderParams
	case '"':
		g.inQuotes = !g.inQuotes // as sipgo's Contact and Route parsers: inside <> too
	case '<':
		if !g.inQuotes {
			g.inAngle = true
		}
	case '>':
		if !g.inQuotes {
			g.inAngle = false
		}
	case ',':
		if g.split == splitAnyComma || g.split == splitOutside && !g.inQuotes && !g.inAngle {
			g.n = 0
		}
	}
	return false
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
