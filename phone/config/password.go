package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"
)

// PasswordCmdTimeout bounds password_cmd when the caller's context allows
// longer: a hung helper must not hang registration forever.
const PasswordCmdTimeout = 10 * time.Second

// passwordCmdTimeout is PasswordCmdTimeout, shortened by tests.
var passwordCmdTimeout = PasswordCmdTimeout

// maxPasswordOutput caps what a password command or file may produce; a
// password is short, and a runaway command must not eat memory.
const maxPasswordOutput = 64 << 10

// HasPassword reports whether a password source is configured.
func (a Account) HasPassword() bool {
	return a.PasswordEnv != "" || a.PasswordCmd != "" || a.PasswordFile != "" || a.PasswordKeyring != ""
}

// Password resolves the account's password source. It returns "" and no
// error when no source is configured. Errors name the source and what went
// wrong, but never contain the password or the command's stdout.
func (a Account) Password(ctx context.Context) (string, error) {
	switch {
	case a.PasswordEnv != "":
		return a.envPassword()
	case a.PasswordCmd != "":
		return a.cmdPassword(ctx)
	case a.PasswordFile != "":
		return a.filePassword()
	case a.PasswordKeyring != "":
		return a.keyringPassword(ctx)
	}
	return "", nil
}

func (a Account) envPassword() (string, error) {
	v, ok := os.LookupEnv(a.PasswordEnv)
	if !ok {
		return "", fmt.Errorf("account %s: password_env: %s is not set", a.Name, a.PasswordEnv)
	}
	if v == "" {
		return "", fmt.Errorf("account %s: password_env: %s is empty", a.Name, a.PasswordEnv)
	}
	return v, nil
}

func (a Account) cmdPassword(ctx context.Context) (string, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, passwordCmdTimeout)
	defer cancel()
	// The command text itself is left out of errors: someone may have
	// written the secret into it ("echo hunter2").
	fail := func(format string, args ...any) error {
		return fmt.Errorf("account %s: password_cmd: "+format, append([]any{a.Name}, args...)...)
	}

	var stdout, stderr limitedBuffer
	stdout.max, stderr.max = maxPasswordOutput, 4096
	cmd := exec.CommandContext(ctx, "sh", "-c", a.PasswordCmd)
	cmd.Stdin = nil // /dev/null: the helper must not read the phone's terminal input
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A background child of the shell can keep the pipes open after the
	// shell is killed; don't wait for it for long.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctxErr := ctx.Err(); ctxErr != nil {
		if parent.Err() == nil {
			return "", fail("did not finish within %v: %w", passwordCmdTimeout, ctxErr)
		}
		return "", fail("did not finish: %w", ctxErr)
	}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			msg := exit.ProcessState.String() // "exit status 3", "signal: killed"
			if line := firstLine(stderr.String()); line != "" {
				msg += ": " + line
			}
			return "", fail("%s", msg)
		}
		// The shell did not start, or I/O failed; neither error
		// carries stdout.
		return "", fail("%w", err)
	}
	if stdout.overflow {
		return "", fail("printed more than %d bytes", maxPasswordOutput)
	}
	pw := trimNewline(stdout.String())
	if pw == "" {
		return "", fail("printed no password")
	}
	return pw, nil
}

func (a Account) filePassword() (string, error) {
	path, err := a.passwordFilePath()
	if err != nil {
		return "", fmt.Errorf("account %s: password_file: %w", a.Name, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("account %s: password_file: %w", a.Name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPasswordOutput+1))
	if err != nil {
		return "", fmt.Errorf("account %s: password_file: %w", a.Name, err)
	}
	if len(data) > maxPasswordOutput {
		return "", fmt.Errorf("account %s: password_file %s: larger than %d bytes", a.Name, path, maxPasswordOutput)
	}
	pw := trimNewline(string(data))
	if pw == "" {
		return "", fmt.Errorf("account %s: password_file %s: is empty", a.Name, path)
	}
	return pw, nil
}

// PasswordFileWarning returns a warning for the user when the password file
// is readable or writable by group or others, and "" otherwise (including
// when there is no password file, or it cannot be inspected: Password then
// reports why). The file is used either way; the warning is advice.
func (a Account) PasswordFileWarning() string {
	if a.PasswordFile == "" || runtime.GOOS == "windows" {
		return ""
	}
	path, err := a.passwordFilePath()
	if err != nil {
		return ""
	}
	if s := ModeWarning(path); s != "" {
		return fmt.Sprintf("account %s: password_file %s", a.Name, s)
	}
	return ""
}

// Warnings returns advice about settings that work but are risky: TLS
// verification turned off, and a config or password file others can read.
func (f *File) Warnings() []string {
	var w []string
	if f.SIP.TLSInsecure {
		w = append(w, "sip.tls_insecure = true: TLS certificates are not verified; anyone on the path can impersonate the server")
	}
	w = append(w, f.FileWarnings()...)
	for _, a := range f.Accounts {
		w = append(w, a.FileWarnings()...)
	}
	return w
}

// passwordFilePath expands ~ and resolves a relative path against the
// config file's directory.
func (a Account) passwordFilePath() (string, error) {
	p, err := ExpandPath(a.PasswordFile)
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(p) && a.dir != "" {
		p = filepath.Join(a.dir, p)
	}
	return p, nil
}

// ExpandPath replaces a leading "~" or "~/" with the home directory ($HOME).
// "~user" is not supported and is an error rather than a file named "~user".
func ExpandPath(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") && !strings.HasPrefix(p, "~"+string(filepath.Separator)) {
		if strings.HasPrefix(p, "~") {
			return "", fmt.Errorf("%s: ~user paths are not supported", p)
		}
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("expanding %s: %w", p, err)
	}
	return filepath.Join(home, p[1:]), nil
}

// trimNewline removes one trailing "\n" or "\r\n": the one that echo, pass
// and editors add. Other whitespace may be part of the password.
func trimNewline(s string) string {
	if strings.HasSuffix(s, "\r\n") {
		return s[:len(s)-2]
	}
	return strings.TrimSuffix(s, "\n")
}

// firstLine returns the first non-empty line of s, without control
// characters and cut to about 200 bytes, for an error message.
func firstLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		line = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return -1
			}
			return r
		}, line)
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if len(line) > 200 {
			cut := 200
			for cut > 0 && !utf8.RuneStart(line[cut]) {
				cut--
			}
			line = line[:cut] + "…"
		}
		return line
	}
	return ""
}

// limitedBuffer keeps the first max bytes written to it and notes overflow,
// without failing the writer (a failing pipe would kill the command with
// SIGPIPE and hide its real exit status). It deliberately does not embed
// bytes.Buffer: a promoted ReadFrom would let io.Copy bypass the limit.
type limitedBuffer struct {
	buf      bytes.Buffer
	max      int
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room < len(p) {
		b.overflow = true
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *limitedBuffer) String() string { return b.buf.String() }
