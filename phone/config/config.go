package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"

	"github.com/pelletier/go-toml/v2"
)

// File is a whole configuration file.
type File struct {
	// Path is where the file was read from; it is used in error messages
	// and to resolve relative password_file paths. Not part of the TOML.
	Path     string    `toml:"-"`
	SIP      SIP       `toml:"sip"`
	Audio    Audio     `toml:"audio"`
	Accounts []Account `toml:"account,omitempty"`

	// keys records where each key was in the decoded document, so that
	// validation errors can point at a line. nil for a File built in code.
	keys *keyIndex
	// written are the accounts as the file had them, before Validate filled
	// in the defaults: Save writes an account the program left alone as it
	// was written, so that the derived values (registrar, auth_user,
	// transport from the AOR) are not pinned and follow a later edit of aor.
	written []Account
}

// SIP is the [sip] table: settings shared by all accounts.
type SIP struct {
	Listen      string `toml:"listen,omitempty"`
	UserAgent   string `toml:"user_agent,omitempty"`
	TLSCA       string `toml:"tls_ca,omitempty"`
	TLSInsecure bool   `toml:"tls_insecure,omitempty"`
	// RTPPorts is the local RTP port range "MIN-MAX" (even ports; RTCP uses the next one).
	RTPPorts string `toml:"rtp_ports,omitempty"`
	// NAT holds stun_server, turn_server, turn_user and turn_password_* for every account.
	NAT
	// RTPTimeout is how many seconds an answered call may receive no RTP or RTCP before it is
	// hung up: 0 means 30, -1 never.
	RTPTimeout int `toml:"rtp_timeout,omitempty"`
	// KeepAlive is how many seconds apart a registered account sends keep-alives (CRLF over
	// UDP, CRLFCRLF pings over TCP/TLS) to its first hop: 0 means 25, -1 none.
	KeepAlive int `toml:"keepalive,omitempty"`
	// DNDCode is what do-not-disturb answers new calls: 486 (the default) or 603, any 400-699.
	DNDCode int `toml:"dnd_code,omitempty"`
	// DNSServer is host[:port] of the DNS server for NAPTR/SRV/A look-ups; "" uses the
	// system's (/etc/resolv.conf).
	DNSServer string `toml:"dns_server,omitempty"`
}

// Audio is the [audio] table.
type Audio struct {
	// Backend is "device" (PortAudio) or "null"; Validate turns "" into "device".
	Backend      string `toml:"backend,omitempty"`
	InputDevice  string `toml:"input_device,omitempty"`
	OutputDevice string `toml:"output_device,omitempty"`
	// EchoCancellation turns echo cancellation, noise suppression and automatic gain on sound
	// devices on or off; nil (unset) means on.
	EchoCancellation *bool `toml:"echo_cancellation,omitempty"`
}

// Account is one [[account]] table. The CLI may also build one in code for an
// ad-hoc account; Validate works the same on it (its errors then name only
// the key).
type Account struct {
	Name          string `toml:"name"`
	AOR           string `toml:"aor"`
	AuthUser      string `toml:"auth_user,omitempty"`
	DisplayName   string `toml:"display_name,omitempty"`
	Registrar     string `toml:"registrar,omitempty"`
	OutboundProxy string `toml:"outbound_proxy,omitempty"`
	Transport     string `toml:"transport,omitempty"`
	Expires       int    `toml:"expires,omitempty"`
	// Register is a pointer so that "not set" (nil, meaning true) differs
	// from an explicit false; Validate sets it. Use ShouldRegister to read it.
	Register     *bool  `toml:"register,omitempty"`
	PasswordEnv  string `toml:"password_env,omitempty"`
	PasswordCmd  string `toml:"password_cmd,omitempty"`
	PasswordFile string `toml:"password_file,omitempty"`
	// PasswordKeyring names the OS keyring service the password is stored under.
	PasswordKeyring string `toml:"password_keyring,omitempty"`
	// NAT overrides [sip]'s NAT settings for this account.
	NAT
	// Codecs is the account's codec preference, best first ("opus", "G722", "PCMU", "PCMA");
	// empty means every codec this build has, wideband first (media.go).
	Codecs []string `toml:"codecs,omitempty"`
	// Ptime is the packet duration, in ms, the account's calls ask the far end to send (10 to
	// 60 in tens); 0 means 20 (media.go).
	Ptime int `toml:"ptime,omitempty"`
	// MediaEncryption is "none", "sdes" (offer SRTP, accept plain) or "sdes-required"; empty
	// means "sdes" over TLS and "none" otherwise (media.go).
	MediaEncryption string `toml:"media_encryption,omitempty"`

	// dir is the directory a relative PasswordFile is resolved against: the
	// config file's directory, or "" (the working directory) for accounts
	// built in code.
	dir string
}

// ShouldRegister reports whether the account registers at start-up
// (register = true or unset).
func (a Account) ShouldRegister() bool { return a.Register == nil || *a.Register }

// DefaultPath returns $XDG_CONFIG_HOME/dialtone/config.toml, or
// ~/.config/dialtone/config.toml when XDG_CONFIG_HOME is unset or relative
// (the XDG spec says to ignore relative values). ~/.config is used on every
// OS, rather than os.UserConfigDir's per-OS choice, so that the documented
// path is the real one everywhere.
func DefaultPath() (string, error) {
	if dir := os.Getenv("XDG_CONFIG_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "dialtone", "config.toml"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("config: finding the config directory: %w", err)
	}
	return filepath.Join(home, ".config", "dialtone", "config.toml"), nil
}

// Load reads, decodes and validates the file at path. A missing file gives
// an error that wraps fs.ErrNotExist, so callers can tell "no config yet"
// from a broken one.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Decode(path, data)
}

// Decode parses data as a config file read from path (used only in error
// messages and for relative password files). Unknown keys and wrongly typed
// values are errors. It applies defaults and validates the result. Every
// error it returns is an *Error.
func Decode(path string, data []byte) (f *File, err error) {
	// The TOML and SIP parsers are third-party code; a panic on some odd
	// input must not take the phone down, so it becomes an error instead.
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, &Error{File: path, Msg: fmt.Sprintf("%v: %v", errInternal, r), Err: errInternal}
		}
	}()

	keys := indexKeys(data)
	f = &File{Path: path, keys: keys}
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(f); err != nil {
		return nil, tomlError(path, data, keys, err)
	}
	if err := checkKeyCase(path, keys); err != nil {
		return nil, err
	}
	if len(f.Accounts) == 0 {
		// "account = []" and no accounts at all mean the same.
		f.Accounts = nil
	}
	dir := ""
	if path != "" {
		dir = filepath.Dir(path)
	}
	for i := range f.Accounts {
		f.Accounts[i].dir = dir
	}
	f.written = f.clone().Accounts
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// errInternal marks an error that comes from a recovered panic: a bug here
// or in a dependency, never the user's fault.
var errInternal = errors.New("internal error while reading the config")

// Save validates f and writes it to path as TOML. It writes a temporary file
// in the same directory and renames it over path, so a crash never leaves a
// half-written config; the file gets mode 0600 (it may name password
// sources) and a missing directory is created with mode 0700. Comments in an
// existing file are not preserved.
func Save(path string, f *File) error {
	if f == nil {
		return errors.New("config: save: nil File")
	}
	// Validate a copy: Validate fills in defaults, and saving must not
	// change the caller's File behind its back.
	check := f.clone()
	check.keys = nil
	check.Path = path
	if err := check.Validate(); err != nil {
		return fmt.Errorf("config: not saving an invalid config: %w", err)
	}
	data, err := toml.Marshal(f.asWritten())
	if err != nil {
		return fmt.Errorf("config: encoding %s: %w", path, err)
	}
	header := "# dialtone configuration. Written by dialtone: comments here are not kept.\n\n"
	return writeAtomic(path, append([]byte(header), data...))
}

// syncWrites makes Save fsync before renaming, so that the rename never
// exposes an empty file after a power cut. The fuzz test turns it off: it
// saves hundreds of thousands of files, and each fsync costs milliseconds.
var syncWrites = true

func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("config: creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("config: saving %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// CreateTemp already uses 0600, but say so: the mode is a promise.
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("config: saving %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("config: saving %s: %w", path, err)
	}
	if syncWrites {
		if err := tmp.Sync(); err != nil {
			return fmt.Errorf("config: saving %s: %w", path, err)
		}
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("config: saving %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("config: saving %s: %w", path, err)
	}
	return nil
}

// asWritten is f to save: each account decoded from the file and not changed
// since (it equals what Validate makes of its written form) as it was written.
func (f *File) asWritten() *File {
	out := f.clone()
	for i, w := range f.written {
		if i >= len(out.Accounts) {
			break
		}
		if w.Register != nil { // Validate must not write through to the written form
			r := *w.Register
			w.Register = &r
		}
		if w.Validate() == nil && reflect.DeepEqual(w, out.Accounts[i]) {
			out.Accounts[i] = f.written[i]
		}
	}
	return out
}

// clone returns a copy of f that shares nothing mutable with it.
func (f *File) clone() *File {
	c := *f
	c.Accounts = make([]Account, len(f.Accounts))
	for i, a := range f.Accounts {
		if a.Register != nil {
			r := *a.Register
			a.Register = &r
		}
		c.Accounts[i] = a
	}
	return &c
}
