package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const secret = "hunter2-s3cret"

func TestPasswordEnv(t *testing.T) {
	a := Account{Name: "cli", PasswordEnv: "DIALTONE_TEST_PW"}
	t.Setenv("DIALTONE_TEST_PW", secret)
	if pw, err := a.Password(context.Background()); err != nil || pw != secret {
		t.Fatalf("set: %q, %v", pw, err)
	}

	t.Setenv("DIALTONE_TEST_PW", "")
	if _, err := a.Password(context.Background()); err == nil || !strings.Contains(err.Error(), "DIALTONE_TEST_PW is empty") {
		t.Errorf("empty: %v", err)
	}

	os.Unsetenv("DIALTONE_TEST_PW") // t.Setenv restores it afterwards
	_, err := a.Password(context.Background())
	if err == nil || !strings.Contains(err.Error(), "password_env: DIALTONE_TEST_PW is not set") {
		t.Errorf("unset: %v", err)
	}
}

func TestPasswordNone(t *testing.T) {
	a := Account{Name: "x"}
	if a.HasPassword() {
		t.Error("HasPassword with no source")
	}
	if pw, err := a.Password(context.Background()); pw != "" || err != nil {
		t.Errorf("no source: %q, %v", pw, err)
	}
	for _, a := range []Account{{PasswordEnv: "X"}, {PasswordCmd: "x"}, {PasswordFile: "x"}} {
		if !a.HasPassword() {
			t.Errorf("HasPassword false for %+v", a)
		}
	}
}

func TestPasswordCmd(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ cmd, want string }{
		{`printf '  pass word \n'`, "  pass word "},           // inner and edge spaces kept
		{`printf 'crlf\r\n'`, "crlf"},                         // \r\n trimmed
		{`printf 'two\n\n'`, "two\n"},                         // only ONE newline trimmed
		{`printf 'none'`, "none"},                             // no newline at all
		{`read x; printf 'stdin:%s\n' "$x"`, "stdin:"},        // stdin is closed, not the terminal
		{`echo "$DIALTONE_INHERIT"`, "inherited environment"}, // environment passed on
	} {
		t.Setenv("DIALTONE_INHERIT", "inherited environment")
		a := Account{Name: "c", PasswordCmd: tc.cmd}
		pw, err := a.Password(ctx)
		if err != nil || pw != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.cmd, pw, err, tc.want)
		}
	}
}

func TestPasswordCmdFailure(t *testing.T) {
	ctx := context.Background()
	a := Account{Name: "work", PasswordCmd: "printf '" + secret + "\\n'; echo 'gpg: decryption failed: No secret key' >&2; echo second line >&2; exit 3"}
	_, err := a.Password(ctx)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"account work", "password_cmd", "exit status 3", "gpg: decryption failed: No secret key"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, secret) || strings.Contains(msg, "second line") {
		t.Errorf("error leaks stdout, the command or later stderr: %q", msg)
	}

	// A long stderr line is cut.
	a.PasswordCmd = "printf '%0500d\\n' 0 >&2; exit 1"
	if _, err := a.Password(ctx); err == nil || len(err.Error()) > 300 {
		t.Errorf("long stderr not trimmed: %d bytes: %v", len(err.Error()), err)
	}

	// Success with empty output is an error, too.
	a.PasswordCmd = "true"
	if _, err := a.Password(ctx); err == nil || !strings.Contains(err.Error(), "printed no password") {
		t.Errorf("empty output: %v", err)
	}

	// The shell missing the command: status 127, stderr says why.
	a.PasswordCmd = "dialtone-no-such-command-xyz"
	if _, err := a.Password(ctx); err == nil || !strings.Contains(err.Error(), "exit status 127") {
		t.Errorf("missing command: %v", err)
	}
}

func TestPasswordCmdTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	a := Account{Name: "slow", PasswordCmd: "printf '" + secret + "'; sleep 30"}
	start := time.Now()
	_, err := a.Password(ctx)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v; ctx deadline not honoured", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
	if err != nil && strings.Contains(err.Error(), secret) {
		t.Errorf("error leaks partial stdout: %v", err)
	}
}

func TestPasswordFile(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	write := func(name, content string, mode os.FileMode) {
		t.Helper()
		p := filepath.Join(home, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // beat the umask
			t.Fatal(err)
		}
	}

	write("pw", " "+secret+" \n", 0o600)
	a := Account{Name: "f", PasswordFile: "~/pw"}
	if pw, err := a.Password(context.Background()); err != nil || pw != " "+secret+" " {
		t.Errorf("~/pw: %q, %v", pw, err)
	}
	if w := a.PasswordFileWarning(); w != "" {
		t.Errorf("0600 file warned: %q", w)
	}

	write("crlf", secret+"\r\n", 0o600)
	a.PasswordFile = filepath.Join(home, "crlf")
	if pw, err := a.Password(context.Background()); err != nil || pw != secret {
		t.Errorf("crlf: %q, %v", pw, err)
	}

	write("open", secret+"\n", 0o644)
	a.PasswordFile = "~/open"
	if pw, err := a.Password(context.Background()); err != nil || pw != secret {
		t.Errorf("permissive file not used: %q, %v", pw, err)
	}
	w := a.PasswordFileWarning()
	if !strings.Contains(w, "0644") || !strings.Contains(w, filepath.Join(home, "open")) {
		t.Errorf("permissive file warning = %q", w)
	}
	f := &File{SIP: SIP{TLSInsecure: true}, Accounts: []Account{a}}
	if ws := f.Warnings(); len(ws) != 2 {
		t.Errorf("Warnings = %q, want tls_insecure and file mode", ws)
	}

	write("empty", "\n", 0o600)
	a.PasswordFile = "~/empty"
	if _, err := a.Password(context.Background()); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty file: %v", err)
	}

	a.PasswordFile = "~/missing"
	_, err := a.Password(context.Background())
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "password_file") {
		t.Errorf("missing file: %v", err)
	}

	a.PasswordFile = "~bob/pw"
	if _, err := a.Password(context.Background()); err == nil || !strings.Contains(err.Error(), "~user") {
		t.Errorf("~user: %v", err)
	}
}

// A relative password_file in a config file is relative to that file.
func TestPasswordFileRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "work.pass"), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.toml")
	data := "[[account]]\nname = \"w\"\naor = \"sip:w@example.com\"\npassword_file = \"work.pass\"\n"
	if err := os.WriteFile(cfg, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if pw, err := f.Accounts[0].Password(context.Background()); err != nil || pw != secret {
		t.Errorf("relative password_file: %q, %v", pw, err)
	}
}

func TestExpandPath(t *testing.T) {
	t.Setenv("HOME", "/home/test")
	for in, want := range map[string]string{
		"~":         "/home/test",
		"~/a/b":     "/home/test/a/b",
		"/abs/~/x":  "/abs/~/x",
		"rel/path":  "rel/path",
		"":          "",
		"~/../etc/": "/home/etc",
	} {
		if got, err := ExpandPath(in); err != nil || got != want {
			t.Errorf("ExpandPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestPasswordCmdDefaultTimeout(t *testing.T) {
	defer func(d time.Duration) { passwordCmdTimeout = d }(passwordCmdTimeout)
	passwordCmdTimeout = 100 * time.Millisecond
	a := Account{Name: "slow", PasswordCmd: "exec sleep 30"}
	_, err := a.Password(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "within 100ms") {
		t.Errorf("err = %v, want a timeout after 100ms", err)
	}
}
