package phone

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// The text formats of transfer: the Refer-To header (RFC 3515 2.1), the Replaces header and
// its escaped form inside a Refer-To URI (RFC 3891), and the message/sipfrag body of the
// NOTIFYs that report a transfer's progress (RFC 3420, RFC 3515 2.4.5). All of them come from
// the network, so each parser returns an error for anything it cannot use and never panics
// (FuzzReferTo, FuzzSipfrag, FuzzReplaces).

// maxTransferText bounds what these parsers look at: a Refer-To or a sipfrag of kilobytes is
// not a transfer, and bounding keeps the work per request small.
const maxTransferText = 4096

// referTarget is a parsed Refer-To: where to call, and the dialog the new call replaces
// (attended transfer) if the URI carries a Replaces header.
type referTarget struct {
	URI      sip.Uri   // without URI headers: the Request-URI of the new call
	Replaces *replaces // nil for a blind transfer
}

// replaces names a dialog (RFC 3891 3): its Call-ID and tags, from the point of view of the
// UA that receives the INVITE with this header: to-tag is that UA's own tag, from-tag the
// other party's.
type replaces struct {
	CallID    string
	ToTag     string
	FromTag   string
	EarlyOnly bool
}

// String is the Replaces header value.
func (r replaces) String() string {
	s := r.CallID + ";to-tag=" + r.ToTag + ";from-tag=" + r.FromTag
	if r.EarlyOnly {
		s += ";early-only"
	}
	return s
}

// parseReplaces reads a Replaces header value: callid *(;param), with to-tag and from-tag
// required (RFC 3891 6.1).
func parseReplaces(v string) (replaces, error) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > maxTransferText {
		return replaces{}, errors.New("replaces: empty or too long")
	}
	parts := strings.Split(v, ";")
	r := replaces{CallID: strings.TrimSpace(parts[0])}
	if r.CallID == "" || strings.ContainsAny(r.CallID, " \t\r\n<>\"") {
		return replaces{}, fmt.Errorf("replaces %q: bad Call-ID", v)
	}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "to-tag":
			r.ToTag = strings.TrimSpace(val)
		case "from-tag":
			r.FromTag = strings.TrimSpace(val)
		case "early-only":
			r.EarlyOnly = true
		}
	}
	if r.ToTag == "" || r.FromTag == "" {
		return replaces{}, fmt.Errorf("replaces %q: to-tag and from-tag are required", v)
	}
	return r, nil
}

// parseReferTo reads a Refer-To header value: a name-addr ("Bob" <sip:bob@x?Replaces=...>)
// or an addr-spec, of scheme sip or sips. URI headers other than Replaces are ignored (we
// would not put arbitrary headers a far end chose into our INVITE).
func parseReferTo(v string) (referTarget, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return referTarget{}, errors.New("refer-to: empty")
	}
	// Escaping makes an embedded Replaces up to three times its length (each of its parts is
	// bounded by maxTransferText once decoded): a Refer-To we write from a Replaces we read
	// must read again (FuzzReferTo found one that did not).
	if len(v) > 4*maxTransferText {
		return referTarget{}, errors.New("refer-to: too long")
	}
	raw := v
	if i := strings.IndexByte(v, '<'); i >= 0 {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return referTarget{}, fmt.Errorf("refer-to %q: no closing '>'", v)
		}
		raw = v[i+1 : i+j]
	} else if i := strings.IndexByte(v, ';'); i >= 0 {
		raw = v[:i] // addr-spec form: what follows ';' are header parameters (RFC 3261 20.10)
	}
	raw = strings.TrimSpace(raw)
	base, hdrs, _ := strings.Cut(raw, "?")
	scheme, _, ok := strings.Cut(base, ":")
	scheme = strings.ToLower(scheme)
	if !ok || !validScheme(scheme) {
		return referTarget{}, fmt.Errorf("refer-to %q: not a URI", v)
	}
	if scheme != "sip" && scheme != "sips" {
		return referTarget{}, fmt.Errorf("refer-to %q: %w", v, errNotSIPURI)
	}
	var u sip.Uri
	if err := sip.ParseUri(base, &u); err != nil {
		return referTarget{}, fmt.Errorf("refer-to %q: %w", v, err)
	}
	if !validHost(u.Host) {
		return referTarget{}, fmt.Errorf("refer-to %q: bad host %q", v, u.Host)
	}
	if !validUser(u.User, "&=+$,;?/") || !validUser(u.Password, "&=+$,") {
		return referTarget{}, fmt.Errorf("refer-to %q: bad user part %q", v, u.User)
	}
	u.Headers = nil
	t := referTarget{URI: u}
	if hdrs == "" {
		return t, nil
	}
	for _, h := range strings.Split(hdrs, "&") {
		k, val, _ := strings.Cut(h, "=")
		if !strings.EqualFold(k, "Replaces") {
			continue
		}
		dec, err := url.PathUnescape(val)
		if err != nil {
			return referTarget{}, fmt.Errorf("refer-to %q: Replaces: %w", v, err)
		}
		r, err := parseReplaces(dec)
		if err != nil {
			return referTarget{}, fmt.Errorf("refer-to %q: %w", v, err)
		}
		t.Replaces = &r
	}
	return t, nil
}

// validHost accepts a host name, an IPv4 address or a bracketed IPv6 address: letters,
// digits, '.', '-', '_', and ':' or brackets for IPv6.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']'
		if !ok {
			return false
		}
	}
	return true
}

// validUser is RFC 3261's user (or password) part: unreserved and escaped characters, and the
// extra ones that part allows (user-unreserved, or the password's). A '>' or a space there would
// end or break the name-addr we write from it (FuzzReferTo found "sip:>@0" and "sip:0:>@0",
// read in addr-spec form, written back as "<sip:>@0>").
func validUser(u, extra string) bool {
	for i := 0; i < len(u); i++ {
		c := u[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-_.!~*'()%", c) >= 0 || strings.IndexByte(extra, c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// validScheme is RFC 3986's scheme: a letter, then letters, digits, '+', '-', '.'.
func validScheme(s string) bool {
	if s == "" || len(s) > 32 || !('a' <= s[0] && s[0] <= 'z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// errNotSIPURI is a Refer-To we cannot call: no scheme, or not sip/sips.
var errNotSIPURI = errors.New("not a sip: or sips: URI")

// referToValue is the Refer-To header value for target, with the Replaces of an attended
// transfer escaped into the URI (RFC 3891 6.1: ";" "=" "@" and the like become %XX).
func referToValue(target sip.Uri, r *replaces) string {
	u := target
	u.Headers = nil
	s := u.String()
	if r != nil {
		s += "?Replaces=" + escapeURIHeader(r.String())
	}
	return "<" + s + ">"
}

// escapeURIHeader escapes a URI header value: only unreserved characters stay as they are.
func escapeURIHeader(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '!', c == '~', c == '*', c == '\'', c == '(', c == ')':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// sipfrag is the status line of a message/sipfrag body: how the transferee's new call went.
type sipfrag struct {
	Code   int
	Reason string
}

// parseSipfrag reads the first line of a message/sipfrag body, which for REFER is a SIP
// status line ("SIP/2.0 180 Ringing"); header lines after it are allowed and ignored.
func parseSipfrag(body []byte) (sipfrag, error) {
	if len(body) > maxTransferText {
		body = body[:maxTransferText]
	}
	line, _, _ := strings.Cut(string(body), "\n")
	line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
	ver, rest, ok := strings.Cut(line, " ")
	if !ok || !strings.EqualFold(ver, "SIP/2.0") {
		return sipfrag{}, fmt.Errorf("sipfrag %q: not a SIP status line", clip(line))
	}
	codeText, reason, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
	code, err := strconv.Atoi(codeText)
	if err != nil || len(codeText) != 3 || code < 100 || code > 699 {
		return sipfrag{}, fmt.Errorf("sipfrag %q: bad status code", clip(line))
	}
	return sipfrag{Code: code, Reason: strings.TrimSpace(reason)}, nil
}

// sipfragBody is the message/sipfrag body for a status.
func sipfragBody(code int, reason string) []byte {
	return []byte(fmt.Sprintf("SIP/2.0 %d %s\r\n", code, reason))
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
