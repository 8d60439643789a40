package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Defaults that Validate fills in.
const (
	DefaultExpires   = 600
	MaxExpires       = 86400
	DefaultTransport = "udp"
	DefaultBackend   = "device"
)

// Transports lists the accepted transport values.
var Transports = []string{"udp", "tcp", "tls"}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Validate checks f, fills in defaults (see Account.Validate), and returns
// the first problem as an *Error positioned in f's file when f was decoded.
func (f *File) Validate() error {
	if err := f.SIP.validate(); err != nil {
		return f.locate("sip", err)
	}
	if err := f.Audio.validate(); err != nil {
		return f.locate("audio", err)
	}
	seen := map[string]int{}
	for i := range f.Accounts {
		prefix := "account[" + strconv.Itoa(i) + "]"
		a := &f.Accounts[i]
		if err := a.Validate(); err != nil {
			return f.locate(prefix, err)
		}
		if j, dup := seen[a.Name]; dup {
			return f.locate(prefix, &Error{Key: "name",
				Msg: fmt.Sprintf("duplicate account name %q (also account[%d])", a.Name, j)})
		}
		seen[a.Name] = i
	}
	return nil
}

// locate prefixes err's key with prefix and adds f's file name and the key's
// line. err is always an *Error from this package.
func (f *File) locate(prefix string, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return &Error{File: f.Path, Key: prefix, Msg: err.Error(), Err: err}
	}
	located := *e
	located.File = f.Path
	located.Key = joinKey(prefix, e.Key)
	if loc := f.keys.find(located.Key); loc != nil {
		located.Line, located.Column = loc.line, loc.col
	}
	return &located
}

func (s *SIP) validate() error {
	if s.Listen != "" {
		host, port, err := net.SplitHostPort(s.Listen)
		if err != nil {
			return &Error{Key: "listen", Msg: fmt.Sprintf("%q is not host:port: %v", s.Listen, err)}
		}
		if err := checkPort(port); err != nil {
			return &Error{Key: "listen", Msg: fmt.Sprintf("%q: %v", s.Listen, err)}
		}
		if host != "" && !validHost(host) {
			return &Error{Key: "listen", Msg: fmt.Sprintf("%q: bad host %q", s.Listen, host)}
		}
	}
	if err := checkText(s.UserAgent); err != nil {
		return &Error{Key: "user_agent", Msg: err.Error()}
	}
	if strings.ContainsRune(s.TLSCA, 0) {
		return &Error{Key: "tls_ca", Msg: "path contains a NUL byte"}
	}
	if s.RTPPorts != "" {
		if _, _, err := ParsePortRange(s.RTPPorts); err != nil {
			return &Error{Key: "rtp_ports", Msg: err.Error()}
		}
	}
	return s.validateNetwork()
}

// ParsePortRange parses an RTP port range "MIN-MAX": 1024 <= MIN < MAX <= 65535, at least
// two ports (one RTP/RTCP pair).
func ParsePortRange(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not a range MIN-MAX", s)
	}
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	switch {
	case err1 != nil || err2 != nil:
		return 0, 0, fmt.Errorf("%q is not a range MIN-MAX of numbers", s)
	case lo < 1024 || hi > 65535 || hi-lo < 1:
		return 0, 0, fmt.Errorf("%q: want 1024 <= MIN < MAX <= 65535", s)
	}
	return lo, hi, nil
}

func (a *Audio) validate() error {
	switch strings.ToLower(a.Backend) {
	case "":
		a.Backend = DefaultBackend
	case "device", "null":
		a.Backend = strings.ToLower(a.Backend)
	default:
		return &Error{Key: "backend", Msg: fmt.Sprintf("%q is not one of device, null", a.Backend)}
	}
	if err := checkText(a.InputDevice); err != nil {
		return &Error{Key: "input_device", Msg: err.Error()}
	}
	if err := checkText(a.OutputDevice); err != nil {
		return &Error{Key: "output_device", Msg: err.Error()}
	}
	return nil
}

// Validate checks a and fills in defaults: auth_user (the AOR user),
// registrar (sip:<AOR host>, or sips: for a sips: AOR), transport (udp, or
// tls when the registrar or outbound proxy is sips:), expires (600) and
// register (true). Transport is lower-cased. Errors are
// *Error with the account's key ("aor", "transport", ...) and no position.
func (a *Account) Validate() error {
	if a.Name == "" {
		return &Error{Key: "name", Msg: "is required"}
	}
	if !nameRE.MatchString(a.Name) {
		return &Error{Key: "name", Msg: fmt.Sprintf("%q may contain only letters, digits, '.', '_' and '-'", a.Name)}
	}
	if a.AOR == "" {
		return &Error{Key: "aor", Msg: "is required (sip:user@host)"}
	}
	aor, err := parseURI(a.AOR, true)
	if err != nil {
		return &Error{Key: "aor", Msg: fmt.Sprintf("%q: %v", a.AOR, err)}
	}
	if a.AuthUser == "" {
		a.AuthUser = unescapeUser(aor.user)
	}
	if err := checkText(a.AuthUser); err != nil {
		return &Error{Key: "auth_user", Msg: err.Error()}
	}
	// The display name ends up in From headers: a newline would let it
	// inject headers.
	if err := checkText(a.DisplayName); err != nil {
		return &Error{Key: "display_name", Msg: err.Error()}
	}
	if a.Registrar == "" {
		a.Registrar = aor.scheme + ":" + aor.host
	}
	reg, err := parseURI(a.Registrar, false)
	if err != nil {
		return &Error{Key: "registrar", Msg: fmt.Sprintf("%q: %v", a.Registrar, err)}
	}
	secure := reg.scheme == "sips"
	hop, hopKey := reg, "registrar" // where requests go first: its ;transport= says how
	if a.OutboundProxy != "" {
		proxy, err := parseURI(a.OutboundProxy, false)
		if err != nil {
			return &Error{Key: "outbound_proxy", Msg: fmt.Sprintf("%q: %v", a.OutboundProxy, err)}
		}
		secure = secure || proxy.scheme == "sips"
		hop, hopKey = proxy, "outbound_proxy"
	}
	if err := a.validateTransport(secure, hop, hopKey); err != nil {
		return err
	}
	switch {
	case a.Expires == 0:
		a.Expires = DefaultExpires
	case a.Expires < 0 || a.Expires > MaxExpires:
		return &Error{Key: "expires", Msg: fmt.Sprintf("%d is not between 1 and %d seconds", a.Expires, MaxExpires)}
	}
	if a.Register == nil {
		t := true
		a.Register = &t
	}
	if err := a.NAT.validate(); err != nil {
		return err
	}
	if err := a.validateMedia(); err != nil {
		return err
	}
	return a.validatePassword()
}

// unescapeUser undoes a URI user part's %HH escapes (RFC 3261 19.1.2): they are URI syntax,
// and the digest user name is the name itself ("sip:alice%40corp@host" authenticates as
// "alice@corp"). A malformed escape is kept as written.
func unescapeUser(u string) string {
	if d, err := url.PathUnescape(u); err == nil {
		return d
	}
	return u
}

// validateTransport settles the account's transport: the transport key, else the first hop's
// ;transport= parameter (RFC 3263 4.1: it names the transport; "sips:...;transport=tcp" is TLS),
// else TLS for a sips: hop and UDP for the rest. A key that contradicts the parameter is an
// error: the parameter was ignored, and an account with "registrar = sip:pbx;transport=tcp"
// registered over UDP.
func (a *Account) validateTransport(secure bool, hop uriParts, hopKey string) error {
	param := hop.transport
	switch {
	case param == "tcp" && hop.scheme == "sips":
		param = "tls"
	case param != "" && !slices.Contains(Transports, param):
		return &Error{Key: hopKey, Msg: fmt.Sprintf(";transport=%s is not one of %s", param, strings.Join(Transports, ", "))}
	}
	t := strings.ToLower(a.Transport)
	if t != "" && param != "" && t != param {
		return &Error{Key: "transport", Msg: fmt.Sprintf("%q contradicts ;transport=%s in %s", a.Transport, hop.transport, hopKey)}
	}
	if t == "" {
		t = param
	}
	switch t {
	case "":
		t = DefaultTransport
		if secure {
			t = "tls"
		}
	case "udp", "tcp", "tls":
		if secure && t != "tls" {
			return &Error{Key: "transport", Msg: fmt.Sprintf("%q cannot reach a sips: registrar or proxy; use tls", a.Transport)}
		}
	default:
		return &Error{Key: "transport", Msg: fmt.Sprintf("%q is not one of %s", a.Transport, strings.Join(Transports, ", "))}
	}
	a.Transport = t
	return nil
}

// maxKeyringService caps the password_keyring service name: it is a short
// label, and macOS and Windows limit what they store alongside the secret.
const maxKeyringService = 256

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (a *Account) validatePassword() error {
	var set []string
	for _, s := range []struct{ key, val string }{
		{"password_env", a.PasswordEnv},
		{"password_cmd", a.PasswordCmd},
		{"password_file", a.PasswordFile},
		{"password_keyring", a.PasswordKeyring},
	} {
		if s.val == "" {
			continue
		}
		if len(set) > 0 {
			return &Error{Key: s.key, Msg: fmt.Sprintf("only one password source may be set, but %s is set too", set[0])}
		}
		set = append(set, s.key)
	}
	if a.PasswordEnv != "" && !envNameRE.MatchString(a.PasswordEnv) {
		return &Error{Key: "password_env", Msg: fmt.Sprintf("%q is not an environment variable name", a.PasswordEnv)}
	}
	if strings.ContainsRune(a.PasswordCmd, 0) {
		return &Error{Key: "password_cmd", Msg: "command contains a NUL byte"}
	}
	if strings.ContainsRune(a.PasswordFile, 0) {
		return &Error{Key: "password_file", Msg: "path contains a NUL byte"}
	}
	// The keyring service is a name shown in keyring managers (Seahorse,
	// Keychain Access); control characters there only confuse.
	if err := checkText(a.PasswordKeyring); err != nil {
		return &Error{Key: "password_keyring", Msg: err.Error()}
	}
	if len(a.PasswordKeyring) > maxKeyringService {
		return &Error{Key: "password_keyring", Msg: fmt.Sprintf("is %d bytes; a keyring service name has at most %d", len(a.PasswordKeyring), maxKeyringService)}
	}
	return nil
}

func checkPort(port string) error {
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}

// checkText rejects control characters, which have no business in a
// header value or a device name and would corrupt SIP messages.
func checkText(s string) error {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("contains control character %U", r)
		}
	}
	return nil
}
