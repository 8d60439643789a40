package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/x/term"

	"github.com/dialtone/dialtone/phone/config"
)

// passwordCmd manages passwords kept in the OS keyring (password_keyring). There is no
// "get": dialtone never prints a password.
type passwordCmd struct {
	Set    passwordSetCmd    `cmd:"" help:"Store an account's password in the OS keyring (its password_keyring): typed without echo on a terminal, else the first line of standard input."`
	Delete passwordDeleteCmd `cmd:"" help:"Remove an account's password from the OS keyring."`
}

type passwordSetCmd struct {
	Account string `arg:"" help:"The account's name in the config file." placeholder:"ACCOUNT"`
}

type passwordDeleteCmd struct {
	Account string `arg:"" help:"The account's name in the config file." placeholder:"ACCOUNT"`
}

// maxPasswordInput caps what is read from standard input; a password is short.
const maxPasswordInput = 64 << 10

// Run stores the password. Exit 0 when stored; 2 for a bad account, an empty password or a
// keyring that cannot be reached (the message says what to install or start).
func (c *passwordSetCmd) Run(e *env) error {
	a, err := e.keyringAccount(c.Account)
	if err != nil {
		return err
	}
	user, _ := a.KeyringUser() // a is validated, so its AOR parses
	pw, err := e.readPassword(fmt.Sprintf("Password for %s (keyring service %q): ", user, a.PasswordKeyring))
	if err != nil {
		return usageErr("%w", err)
	}
	if err := a.StorePassword(e.ctx, pw); err != nil {
		return usageErr("%w", err)
	}
	fmt.Fprintf(e.stdout, "stored the password of account %s in the keyring (service %q, user %s)\n", a.Name, a.PasswordKeyring, user)
	return nil
}

// Run deletes the password. Exit 0 when deleted, 2 when none was stored or the keyring
// cannot be reached.
func (c *passwordDeleteCmd) Run(e *env) error {
	a, err := e.keyringAccount(c.Account)
	if err != nil {
		return err
	}
	user, _ := a.KeyringUser()
	if err := a.DeleteStoredPassword(e.ctx); err != nil {
		if errors.Is(err, config.ErrKeyringNotFound) {
			return usageErr("account %s: no password stored for %s in keyring service %q", a.Name, user, a.PasswordKeyring)
		}
		return usageErr("%w", err)
	}
	fmt.Fprintf(e.stdout, "deleted the password of account %s from the keyring (service %q, user %s)\n", a.Name, a.PasswordKeyring, user)
	return nil
}

// keyringAccount finds the named account in the config file and checks that its password
// lives in the keyring.
func (e *env) keyringAccount(name string) (config.Account, error) {
	f, err := e.loadConfig()
	if err != nil {
		return config.Account{}, err
	}
	for _, a := range f.Accounts {
		if a.Name != name {
			continue
		}
		if a.PasswordKeyring == "" {
			other := ""
			switch {
			case a.PasswordEnv != "":
				other = " (it reads password_env)"
			case a.PasswordCmd != "":
				other = " (it runs password_cmd)"
			case a.PasswordFile != "":
				other = " (it reads password_file)"
			}
			return config.Account{}, usageErr("account %s has no password_keyring%s; put password_keyring = \"dialtone\" in its [[account]] table in %s instead", name, other, f.Path)
		}
		return a, nil
	}
	return config.Account{}, usageErr("no account named %q in %s", name, f.Path)
}

// readPassword reads the password: on a terminal without echo after prompting on stderr,
// else the first line of standard input (one trailing "\n" or "\r\n" removed, as
// password_file does).
func (e *env) readPassword(prompt string) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(f.Fd()) {
		fmt.Fprint(e.stderr, prompt)
		pw, err := readTerminalPassword(e.ctx, f.Fd())
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if pw == "" {
			return "", errors.New("no password entered")
		}
		return pw, nil
	}
	b, err := readAllCtx(e.ctx, io.LimitReader(e.stdin, maxPasswordInput+1))
	if err != nil {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	if len(b) > maxPasswordInput {
		return "", fmt.Errorf("standard input holds more than %d bytes; a password is one line", maxPasswordInput)
	}
	s := string(b)
	if strings.HasSuffix(s, "\r\n") {
		s = s[:len(s)-2]
	} else {
		s = strings.TrimSuffix(s, "\n")
	}
	switch {
	case s == "":
		return "", errors.New("standard input is empty; pipe the password in, e.g. `pass show sip/work | dialtone password set work`")
	case strings.ContainsAny(s, "\r\n"):
		return "", errors.New("standard input holds more than one line; a password is one line")
	}
	return s, nil
}

// readAllCtx is io.ReadAll that gives up when ctx ends: a pipe whose writer never closes (a
// password manager waiting for a touch that never comes) held `password set` past Ctrl-C.
func readAllCtx(ctx context.Context, r io.Reader) ([]byte, error) {
	b, _, err := untilDone(ctx, func() ([]byte, error) { return io.ReadAll(r) })
	return b, err
}

// readTerminalPassword is term.ReadPassword that gives up when ctx ends (Ctrl-C), restoring
// the terminal's echo the read had turned off.
func readTerminalPassword(ctx context.Context, fd uintptr) (string, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return "", err
	}
	pw, interrupted, err := untilDone(ctx, func() ([]byte, error) { return term.ReadPassword(fd) })
	if interrupted {
		_ = term.Restore(fd, state)
	}
	return string(pw), err
}

// untilDone runs read, a blocking read that cannot be interrupted, and returns what it gives,
// or an error when ctx ends first (interrupted): the reading goroutine is then left to end
// with the process, which exits right after.
func untilDone(ctx context.Context, read func() ([]byte, error)) (b []byte, interrupted bool, err error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := read()
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return r.b, false, r.err
	case <-ctx.Done():
		return nil, true, fmt.Errorf("interrupted: %w", ctx.Err())
	}
}
