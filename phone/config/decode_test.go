package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

const testPath = "/home/a/.config/dialtone/config.toml"

func boolPtr(b bool) *bool { return &b }

func TestDecodeGood(t *testing.T) {
	tests := []struct {
		name string
		toml string
		want File
	}{
		{
			name: "empty file",
			toml: "",
			want: File{Audio: Audio{Backend: "device"}},
		},
		{
			name: "minimal account gets defaults",
			toml: `
[[account]]
name = "work"
aor = "sip:alice@example.com"
`,
			want: File{
				Audio: Audio{Backend: "device"},
				Accounts: []Account{{
					Name: "work", AOR: "sip:alice@example.com", AuthUser: "alice",
					Registrar: "sip:example.com", Transport: "udp", Expires: 600, Register: boolPtr(true),
				}},
			},
		},
		{
			name: "everything set",
			toml: `
[sip]
listen = "0.0.0.0:5062"
user_agent = "dialtone/1"
tls_ca = "/etc/ca.pem"
tls_insecure = true

[audio]
backend = "null"
input_device = "2"
output_device = "USB Headset"

[[account]]
name = "work"
aor = "sip:alice@example.com"
auth_user = "a123"
display_name = "Alice Liddell"
registrar = "sip:reg.example.com:5070"
outbound_proxy = "sip:proxy.example.com"
transport = "TCP"
expires = 4
register = false
password_cmd = "pass show sip/work"

[[account]]
name = "home.v6"
aor = "sips:bob@[2001:db8::1]"
password_file = "~/bob.pass"
`,
			want: File{
				SIP:   SIP{Listen: "0.0.0.0:5062", UserAgent: "dialtone/1", TLSCA: "/etc/ca.pem", TLSInsecure: true},
				Audio: Audio{Backend: "null", InputDevice: "2", OutputDevice: "USB Headset"},
				Accounts: []Account{{
					Name: "work", AOR: "sip:alice@example.com", AuthUser: "a123", DisplayName: "Alice Liddell",
					Registrar: "sip:reg.example.com:5070", OutboundProxy: "sip:proxy.example.com",
					Transport: "tcp", Expires: 4, Register: boolPtr(false), PasswordCmd: "pass show sip/work",
				}, {
					Name: "home.v6", AOR: "sips:bob@[2001:db8::1]", AuthUser: "bob",
					Registrar: "sips:[2001:db8::1]", Transport: "tls", Expires: 600, Register: boolPtr(true),
					PasswordFile: "~/bob.pass",
				}},
			},
		},
		{
			name: "sips proxy defaults transport to tls",
			toml: `
[[account]]
name = "a"
aor = "sip:alice@example.com"
outbound_proxy = "sips:edge.example.com:5061"
`,
			want: File{
				Audio: Audio{Backend: "device"},
				Accounts: []Account{{
					Name: "a", AOR: "sip:alice@example.com", AuthUser: "alice", Registrar: "sip:example.com",
					OutboundProxy: "sips:edge.example.com:5061", Transport: "tls", Expires: 600, Register: boolPtr(true),
				}},
			},
		},
		{
			name: "accounts as inline tables",
			toml: `account = [{name = "a", aor = "sip:a@example.com", password_env = "A_PW"}]`,
			want: File{
				Audio: Audio{Backend: "device"},
				Accounts: []Account{{
					Name: "a", AOR: "sip:a@example.com", AuthUser: "a", Registrar: "sip:example.com",
					Transport: "udp", Expires: 600, Register: boolPtr(true), PasswordEnv: "A_PW",
				}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(testPath, []byte(tt.toml))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got.Path != testPath {
				t.Errorf("Path = %q, want %q", got.Path, testPath)
			}
			if !reflect.DeepEqual(got.SIP, tt.want.SIP) {
				t.Errorf("SIP = %+v, want %+v", got.SIP, tt.want.SIP)
			}
			if !reflect.DeepEqual(got.Audio, tt.want.Audio) {
				t.Errorf("Audio = %+v, want %+v", got.Audio, tt.want.Audio)
			}
			if len(got.Accounts) != len(tt.want.Accounts) {
				t.Fatalf("got %d accounts, want %d", len(got.Accounts), len(tt.want.Accounts))
			}
			for i := range got.Accounts {
				g := got.Accounts[i]
				g.dir = "" // resolution detail, tested separately
				if !reflect.DeepEqual(g, tt.want.Accounts[i]) {
					t.Errorf("account[%d] =\n %+v\nwant\n %+v", i, g, tt.want.Accounts[i])
				}
			}
		})
	}
}

func TestDecodeBad(t *testing.T) {
	const acct = "[[account]]\nname = \"work\"\naor = \"sip:alice@example.com\"\n"
	tests := []struct {
		name    string
		toml    string
		line    int
		col     int // 0: don't check
		key     string
		msgPart string
	}{
		{"unknown top-level key", "[sip]\nlisten = \":5060\"\n\nbogus = 1\n", 4, 1, "sip.bogus", "unknown key"},
		{"unknown root key", "bogus = 1\n" + acct, 1, 1, "bogus", "unknown key"},
		{"unknown key in second account", acct + "\n[[account]]\nname = \"b\"\naor = \"sip:b@example.com\"\n  pasword_env = \"X\"\n", 8, 3, "account[1].pasword_env", "unknown key"},
		{"unknown table", acct + "[account.extra]\nx = 1\n", 4, 2, "account[0].extra", "unknown table"},
		{"unknown key in inline account", `account = [{name = "a", aor = "sip:a@b.c"}, {name = "b", foo = 1}]`, 1, 58, "account[1].foo", "unknown key"},
		{"wrong type expires", acct + "expires = \"ten\"\n", 4, 1, "account[0].expires", "must be an integer, not a string"},
		{"wrong type float", acct + "expires = 1e3\n", 4, 1, "account[0].expires", "must be an integer, not a float"},
		{"wrong type register", acct + "register = \"yes\"\n", 4, 1, "account[0].register", "must be a boolean"},
		{"wrong type table", "sip = 3\n", 1, 1, "sip", "must be a table"},
		{"wrong type string", "[audio]\nbackend = 1\n", 2, 1, "audio.backend", "must be a string, not an integer"},
		{"wrong type keepalive", "[sip]\nkeepalive = \"25\"\n", 2, 1, "sip.keepalive", "must be an integer, not a string"},
		{"wrong type codecs", acct + "codecs = \"PCMU\"\n", 4, 1, "account[0].codecs", "must be an array of strings, not a string"},
		{"wrong type echo cancellation", "[audio]\necho_cancellation = \"on\"\n", 2, 1, "audio.echo_cancellation", "must be a boolean (true or false), not a string"},
		{"integer overflow", acct + "expires = 99999999999999999999\n", 4, 1, "account[0].expires", "too large"},
		{"duplicate key", acct + "aor = \"sip:x@y.z\"\n", 4, 1, "account[0].aor", "already defined"},
		{"syntax error", "[sip\nlisten = 1\n", 1, 5, "", "expected ']'"},
		{"bad transport", "# comment\n\n[[account]]\nname = \"work\"\naor = \"sip:alice@example.com\"\n\ntransport = \"udpx\"\n", 7, 1, "account[0].transport", `"udpx" is not one of udp, tcp, tls`},
		{"sips registrar with udp", acct + "registrar = \"sips:example.com\"\ntransport = \"udp\"\n", 5, 1, "account[0].transport", "use tls"},
		{"aor without user", "[[account]]\nname = \"work\"\n aor = \"sip:example.com\"\n", 3, 2, "account[0].aor", "needs a user part"},
		{"aor not sip", "[[account]]\nname = \"work\"\naor = \"mailto:alice@example.com\"\n", 3, 1, "account[0].aor", "sip: or sips:"},
		{"aor with space", "[[account]]\nname = \"work\"\naor = \"sip:alice@exa mple.com\"\n", 3, 1, "account[0].aor", "space"},
		{"aor with password", "[[account]]\nname = \"work\"\naor = \"sip:alice:secret@example.com\"\n", 3, 1, "account[0].aor", "password"},
		{"registrar with user", acct + "registrar = \"sip:bob@example.com\"\n", 4, 1, "account[0].registrar", "must not have a user part"},
		{"bad proxy", acct + "outbound_proxy = \"example.com\"\n", 4, 1, "account[0].outbound_proxy", "must start with sip: or sips:"},
		{"two password sources", acct + "password_env = \"PW\"\npassword_cmd = \"pass show x\"\n", 5, 1, "account[0].password_cmd", "only one password source"},
		{"bad env name", acct + "password_env = \"MY PW\"\n", 4, 1, "account[0].password_env", "environment variable"},
		{"duplicate names", acct + "\n[[account]]\nname = \"work\"\naor = \"sip:bob@example.com\"\n", 6, 1, "account[1].name", `duplicate account name "work"`},
		{"missing aor", "[sip]\n\n[[account]]\nname = \"work\"\n", 3, 3, "account[0].aor", "is required"},
		{"missing name", acct + "[[account]]\naor = \"sip:bob@example.com\"\n", 4, 3, "account[1].name", "is required"},
		{"bad name", "[[account]]\nname = \"my work\"\naor = \"sip:a@b.c\"\n", 2, 1, "account[0].name", "may contain only"},
		{"expires too big", acct + "expires = 86401\n", 4, 1, "account[0].expires", "between 1 and 86400"},
		{"expires negative", acct + "expires = -5\n", 4, 1, "account[0].expires", "between 1 and 86400"},
		{"bad backend", "[audio]\nbackend = \"alsa\"\n", 2, 1, "audio.backend", "not one of device, null"},
		{"bad listen", "[sip]\nlisten = \"5060\"\n", 2, 1, "sip.listen", "host:port"},
		{"bad listen port", "[sip]\nlisten = \":99999\"\n", 2, 1, "sip.listen", "bad port"},
		{"wrong case key", acct + "Transport = \"tcp\"\n", 4, 1, "account[0].Transport", `case-sensitive: did you mean "transport"?`},
		{"wrong case table", "[[Account]]\nname = \"w\"\naor = \"sip:a@b.c\"\n", 1, 3, "Account[0]", `did you mean "account"?`},
		{"aor with bad user", "[[account]]\nname = \"work\"\naor = \"sip:al<ice@example.com\"\n", 3, 1, "account[0].aor", "bad user part"},
		{"registrar with junk", acct + "registrar = \"sip:junk[::1]\"\n", 4, 1, "account[0].registrar", "is not of the form"},
		{"lone account table", "\n[account]\nname = \"w\"\n", 2, 2, "account[0].aor", "is required"},
		{"turn without password", "[sip]\nturn_server = \"turn.example.com\"\nturn_user = \"u\"\n", 2, 1, "sip.turn_server", "needs a password source"},
		{"account turn without password", acct + "turn_server = \"203.0.113.8\"\nturn_user = \"u\"\n", 4, 1, "account[0].turn_server", "needs a password source"},
		{"display name newline", acct + "display_name = \"A\\r\\nVia: x\"\n", 4, 1, "account[0].display_name", "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Decode(testPath, []byte(tt.toml))
			if err == nil {
				t.Fatalf("Decode succeeded: %+v", f)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if e.File != testPath || e.Line != tt.line || e.Key != tt.key || (tt.col != 0 && e.Column != tt.col) {
				t.Errorf("error at %s:%d:%d key %q, want %s:%d:%d key %q\n%v",
					e.File, e.Line, e.Column, e.Key, testPath, tt.line, tt.col, tt.key, err)
			}
			if !strings.Contains(e.Msg, tt.msgPart) {
				t.Errorf("message %q does not contain %q", e.Msg, tt.msgPart)
			}
			prefix := testPath + ":" + strconv.Itoa(tt.line) + ":"
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.key+": ") {
				t.Errorf("Error() = %q, want prefix %q and key %q", err.Error(), prefix, tt.key)
			}
		})
	}
}

// TestErrorFormat pins the exact message shape that the README shows.
func TestErrorFormat(t *testing.T) {
	data := "[sip]\n\n[audio]\n\n[[account]]\nname = \"work\"\ntransport = \"udpx\"\naor = \"sip:alice@example.com\"\n"
	_, err := Decode(testPath, []byte(data))
	want := testPath + `:7:1: account[0].transport: "udpx" is not one of udp, tcp, tls`
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}

	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{Key: "aor", Msg: "is required"}, "aor: is required"},
		{Error{File: "f", Msg: "m"}, "f: m"},
		{Error{File: "f", Line: 3, Msg: "m"}, "f:3: m"},
		{Error{Line: 3, Column: 2, Key: "k", Msg: "m"}, "3:2: k: m"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v.Error() = %q, want %q", tc.e, got, tc.want)
		}
	}
}

func TestAccountValidateInCode(t *testing.T) {
	// The CLI builds ad-hoc accounts without a file.
	a := Account{Name: "cli", AOR: "sips:alice@example.com", PasswordEnv: "DIALTONE_PASSWORD"}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if a.Registrar != "sips:example.com" || a.Transport != "tls" || a.AuthUser != "alice" || !a.ShouldRegister() || a.Expires != 600 {
		t.Errorf("defaults not applied: %+v", a)
	}

	bad := Account{Name: "cli", AOR: "alice@example.com"}
	err := bad.Validate()
	var e *Error
	if !errors.As(err, &e) || e.Key != "aor" || e.File != "" || e.Line != 0 {
		t.Fatalf("got %#v", err)
	}
	if !strings.HasPrefix(err.Error(), `aor: "alice@example.com": `) {
		t.Errorf("Error() = %q", err.Error())
	}

	// File.Validate on a File built in code names keys but no position.
	f := &File{Accounts: []Account{{Name: "x", AOR: "sip:x@y.z", Transport: "sctp"}}}
	err = f.Validate()
	if err == nil || !strings.HasPrefix(err.Error(), "account[0].transport: ") {
		t.Errorf("File.Validate = %v", err)
	}
}

// TestTransportFromTheFirstHop: the registrar's or outbound proxy's ;transport= parameter
// (RFC 3263 4.1) sets the account's transport when the transport key does not; the key
// contradicting it is an error. The parameter was ignored, and the account used UDP.
func TestTransportFromTheFirstHop(t *testing.T) {
	for _, tc := range []struct {
		a       Account
		want    string
		wantErr string
	}{
		{a: Account{Registrar: "sip:pbx.example.com;transport=tcp"}, want: "tcp"},
		{a: Account{Registrar: "sip:pbx.example.com;transport=TLS"}, want: "tls"},
		{a: Account{Registrar: "sips:pbx.example.com;transport=tcp"}, want: "tls"},
		{a: Account{Registrar: "sip:pbx.example.com;transport=udp", OutboundProxy: "sip:sbc.example.com;transport=tcp"}, want: "tcp"},
		{a: Account{Registrar: "sip:pbx.example.com;transport=tcp", Transport: "tcp"}, want: "tcp"},
		{a: Account{Registrar: "sip:pbx.example.com"}, want: "udp"},
		{a: Account{Registrar: "sip:pbx.example.com;transport=tcp", Transport: "udp"}, wantErr: `transport: "udp" contradicts ;transport=tcp in registrar`},
		{a: Account{Registrar: "sip:pbx.example.com;transport=sctp"}, wantErr: "registrar: ;transport=sctp is not one of"},
	} {
		a := tc.a
		a.Name, a.AOR, a.PasswordEnv = "x", "sip:alice@example.com", "PW"
		err := a.Validate()
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%+v: error %v, want %q", tc.a, err, tc.wantErr)
			}
		case err != nil || a.Transport != tc.want:
			t.Errorf("%+v: transport %q (%v), want %q", tc.a, a.Transport, err, tc.want)
		}
	}
}

// TestAuthUserIsTheUnescapedAORUser: the digest user name defaults to the AOR's user part
// with its URI escapes undone; "alice%40corp" failed every challenge.
func TestAuthUserIsTheUnescapedAORUser(t *testing.T) {
	for aor, want := range map[string]string{
		"sip:alice%40corp@example.com": "alice@corp",
		"sip:alice@example.com":        "alice",
		"sip:a%zz@example.com":         "a%zz",
	} {
		a := Account{Name: "x", AOR: aor, PasswordEnv: "PW"}
		err := a.Validate()
		if err != nil && want != "a%zz" { // a malformed escape may be refused as a bad user part
			t.Errorf("%s: %v", aor, err)
			continue
		}
		if err == nil && a.AuthUser != want {
			t.Errorf("%s: auth user %q, want %q", aor, a.AuthUser, want)
		}
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load missing: %v, want fs.ErrNotExist", err)
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	if p, err := DefaultPath(); err != nil || p != filepath.Join("/xdg", "dialtone", "config.toml") {
		t.Errorf("with XDG_CONFIG_HOME: %q, %v", p, err)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, xdg := range []string{"", "relative/dir"} {
		t.Setenv("XDG_CONFIG_HOME", xdg)
		if p, err := DefaultPath(); err != nil || p != filepath.Join(home, ".config", "dialtone", "config.toml") {
			t.Errorf("XDG_CONFIG_HOME=%q: %q, %v", xdg, p, err)
		}
	}
}

// TestDocExample decodes the example in the package comment, so the
// documentation (and the README that copies it) cannot rot.
func TestDocExample(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	in := false
	for _, l := range strings.Split(string(src), "\n") {
		switch {
		case strings.HasPrefix(l, "// A complete example"):
			in = true
		case in && strings.HasPrefix(l, "//\t"):
			lines = append(lines, strings.TrimPrefix(l, "//\t"))
		case in && l == "//":
			lines = append(lines, "")
		case in:
			in = false
		}
	}
	example := strings.Join(lines, "\n")
	if !strings.Contains(example, "[[account]]") {
		t.Fatalf("example not found in doc.go:\n%s", example)
	}
	f, err := Decode("example.toml", []byte(example))
	if err != nil {
		t.Fatalf("doc example does not decode: %v\n%s", err, example)
	}
	if len(f.Accounts) != 1 || f.Accounts[0].PasswordEnv != "WORK_SIP_PASSWORD" || f.SIP.Listen != "0.0.0.0:5062" {
		t.Errorf("unexpected decode of doc example: %+v", f)
	}
}
