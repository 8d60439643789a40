package config

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// NAT is the NAT-traversal settings: in [sip] for every account, in an [[account]] for that
// account alone (where it wins over [sip]).
type NAT struct {
	// STUNServer is host[:port] (default port 3478) of a STUN server asked for our public
	// address.
	STUNServer string `toml:"stun_server,omitempty"`
	// TURNServer is host[:port] (default port 3478, UDP) of a TURN relay, used when the NAT
	// is symmetric and no provider relay rewrites the media address.
	TURNServer string `toml:"turn_server,omitempty"`
	TURNUser   string `toml:"turn_user,omitempty"`
	// The TURN password comes from one source, like an account's.
	TURNPasswordEnv  string `toml:"turn_password_env,omitempty"`
	TURNPasswordCmd  string `toml:"turn_password_cmd,omitempty"`
	TURNPasswordFile string `toml:"turn_password_file,omitempty"`
}

// Empty reports whether no NAT setting is made here.
func (n NAT) Empty() bool { return n == NAT{} }

// TURNPassword resolves the TURN password source. dir is where a relative
// turn_password_file lives (the config file's directory, or "").
func (n NAT) TURNPassword(ctx context.Context, dir string) (string, error) {
	src := Account{Name: "turn", PasswordEnv: n.TURNPasswordEnv, PasswordCmd: n.TURNPasswordCmd, PasswordFile: n.TURNPasswordFile, dir: dir}
	pw, err := src.Password(ctx)
	if err != nil {
		return "", fmt.Errorf("turn password: %w", err)
	}
	return pw, nil
}

func (n *NAT) validate() error {
	if err := checkServer(n.STUNServer); err != nil {
		return &Error{Key: "stun_server", Msg: err.Error()}
	}
	if err := checkServer(n.TURNServer); err != nil {
		return &Error{Key: "turn_server", Msg: err.Error()}
	}
	if err := checkText(n.TURNUser); err != nil {
		return &Error{Key: "turn_user", Msg: err.Error()}
	}
	if n.TURNServer == "" && (n.TURNUser != "" || n.TURNPasswordEnv != "" || n.TURNPasswordCmd != "" || n.TURNPasswordFile != "") {
		return &Error{Key: "turn_server", Msg: "is required when turn_user or a turn password is set"}
	}
	if n.TURNServer != "" && n.TURNUser == "" {
		return &Error{Key: "turn_user", Msg: "is required with turn_server (TURN uses long-term credentials)"}
	}
	if n.TURNServer != "" && n.TURNPasswordEnv == "" && n.TURNPasswordCmd == "" && n.TURNPasswordFile == "" {
		// Caught here rather than at the first call that needs the relay, where the server's
		// 401 to an empty password reads like a wrong one.
		return &Error{Key: "turn_server", Msg: "needs a password source: turn_password_env, turn_password_cmd or turn_password_file"}
	}
	src := Account{PasswordEnv: n.TURNPasswordEnv, PasswordCmd: n.TURNPasswordCmd, PasswordFile: n.TURNPasswordFile}
	if err := src.validatePassword(); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Key = "turn_" + e.Key
			return e
		}
		return err
	}
	return nil
}

// CheckServer validates a host[:port] server address as the STUN, TURN and DNS settings and
// flags take it.
func CheckServer(s string) error { return checkServer(s) }

func checkServer(s string) error {
	if s == "" {
		return nil
	}
	if err := checkText(s); err != nil {
		return err
	}
	host, port := s, ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.Count(s, ":") == 1 || strings.HasPrefix(s, "[") {
		return fmt.Errorf("%q is not host[:port]: %v", s, err)
	}
	if host == "" || !validHost(strings.Trim(host, "[]")) {
		return fmt.Errorf("%q: bad host %q", s, host)
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: bad port %q", s, port)
		}
	}
	return nil
}

// checkSeconds accepts 0 (the default), -1 (off) and 1..max.
func checkSeconds(n, max int) error {
	if n < -1 || n > max {
		return fmt.Errorf("%d is not -1 (off), 0 (default) or 1..%d seconds", n, max)
	}
	return nil
}

// validateNetwork checks [sip]'s NAT, timing and DNS settings.
func (s *SIP) validateNetwork() error {
	if err := s.NAT.validate(); err != nil {
		return err
	}
	if err := checkSeconds(s.RTPTimeout, 3600); err != nil {
		return &Error{Key: "rtp_timeout", Msg: err.Error()}
	}
	if err := checkSeconds(s.KeepAlive, 3600); err != nil {
		return &Error{Key: "keepalive", Msg: err.Error()}
	}
	if s.DNDCode != 0 && (s.DNDCode < 400 || s.DNDCode > 699) {
		return &Error{Key: "dnd_code", Msg: fmt.Sprintf("%d is not a final error response (400-699; 486 or 603)", s.DNDCode)}
	}
	if err := checkServer(s.DNSServer); err != nil {
		return &Error{Key: "dns_server", Msg: err.Error()}
	}
	return nil
}

// TURNPassword resolves the account's own TURN password source (relative files are found
// beside the config file).
func (a Account) TURNPassword(ctx context.Context) (string, error) {
	return a.NAT.TURNPassword(ctx, a.dir)
}
