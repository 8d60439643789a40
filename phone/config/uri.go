package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// uriParts is what validation needs from a parsed SIP URI.
type uriParts struct {
	scheme, user, host string
	transport          string // the ;transport= parameter, lower case ("" without one)
}

// parseURI parses s with sipgo's parser, which is lenient (it accepts any
// scheme, spaces and odd hosts), and adds the checks a config value needs:
// sip: or sips:, a host, a user part exactly when wantUser, no password and
// no headers.
func parseURI(s string, wantUser bool) (u uriParts, err error) {
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return u, errors.New("contains a space or control character")
		}
	}
	// Checked before parsing because sipgo's message for "example.com" is
	// a puzzling "invalid uri scheme".
	if l := strings.ToLower(s); !strings.HasPrefix(l, "sip:") && !strings.HasPrefix(l, "sips:") {
		return u, errors.New("must start with sip: or sips:")
	}
	var uri sip.Uri
	if err := safeParseURI(s, &uri); err != nil {
		return u, fmt.Errorf("not a SIP URI: %v", err)
	}
	switch {
	case uri.Scheme != "sip" && uri.Scheme != "sips":
		return u, errors.New("must start with sip: or sips:")
	case uri.HierarhicalSlashes:
		return u, errors.New("SIP URIs have no // after the scheme")
	case uri.Password != "":
		return u, errors.New("must not contain a password (use password_env, password_cmd or password_file)")
	case len(uri.Headers) > 0:
		return u, errors.New("must not have ?headers")
	case uri.Port < 0 || uri.Port > 65535:
		return u, fmt.Errorf("bad port %d", uri.Port)
	case wantUser && uri.User == "":
		return u, errors.New("needs a user part (sip:user@host)")
	case !wantUser && uri.User != "":
		return u, errors.New("must not have a user part (sip:host[:port])")
	}
	if uri.User != "" && !validUser(uri.User) {
		return u, fmt.Errorf("bad user part %q", uri.User)
	}
	if !validURIHost(uri.Host) {
		return u, fmt.Errorf("bad host %q", uri.Host)
	}
	// sipgo skips text it does not expect ("sip:junk[::1]" parses as
	// host [::1]); insist that the parts we got are what was written.
	want := uri.Scheme + ":"
	if uri.User != "" {
		want += uri.User + "@"
	}
	want += uri.Host
	if uri.Port != 0 {
		want += ":" + strconv.Itoa(uri.Port)
	}
	rest, ok := cutPrefixFold(s, want)
	if !ok || (rest != "" && rest[0] != ';' && rest[0] != '?') {
		return u, errors.New("is not of the form sip:[user@]host[:port][;params]")
	}
	tp, _ := uri.UriParams.Get("transport")
	return uriParts{scheme: uri.Scheme, user: uri.User, host: uri.Host, transport: strings.ToLower(tp)}, nil
}

// safeParseURI runs sip.ParseUri, turning a panic in it into an error: a
// config value must never crash the phone.
func safeParseURI(s string, uri *sip.Uri) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errInternal, r)
		}
	}()
	return sip.ParseUri(s, uri)
}

// validUser accepts RFC 3261's user: unreserved and user-unreserved
// characters and %XX escapes.
func validUser(u string) bool {
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-_.!~*'()&=+$,;?/", c) >= 0:
		case c == '%' && i+2 < len(u) && isHex(u[i+1]) && isHex(u[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// validURIHost accepts a host name, an IPv4 address or a bracketed IPv6
// address, as they appear in a URI.
func validURIHost(h string) bool {
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		ip := net.ParseIP(h[1 : len(h)-1])
		return ip != nil && ip.To4() == nil
	}
	return !strings.Contains(h, ":") && validHost(h)
}

// validHost accepts an IP address or a DNS-like host name.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 || h[0] == '.' || h[0] == '-' {
		return false
	}
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
		default:
			return false
		}
	}
	return true
}

// cutPrefixFold is strings.CutPrefix ignoring ASCII case (schemes and host
// names are case-insensitive).
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}
