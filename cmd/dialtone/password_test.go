package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
	"github.com/dialtone/dialtone/phone/config"
)

const keyringConfig = `
[[account]]
name = "work"
aor = "sip:alice@Example.com"
auth_user = "4711"
password_keyring = "dialtone-test"

[[account]]
name = "env"
aor = "sip:bob@example.com"
password_env = "BOB_PW"
`

// passwordEnv is an env for running the password commands in-process on config.
func passwordEnv(t *testing.T, config, stdin string) (*env, *bytes.Buffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	var out bytes.Buffer
	return &env{ctx: ctx, cli: &cli{Config: path}, stdin: strings.NewReader(stdin), stdout: &out, stderr: &out}, &out
}

func exitCode(err error) int {
	var xe *exitError
	if errors.As(err, &xe) {
		return xe.code
	}
	if err != nil {
		return exitInternal
	}
	return exitOK
}

// Against a real Secret Service (GNOME Keyring on a private D-Bus): set stores what the
// password_keyring source then reads, delete removes it. Not parallel: go-keyring finds the
// bus through the environment.
func TestPasswordSetAndDeleteInRealKeyring(t *testing.T) {
	s := peers.StartSecretService(t, peers.SecretServiceOptions{})
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", s.Address())

	e, out := passwordEnv(t, keyringConfig, "pass word 1\r\n")
	if err := (&passwordSetCmd{Account: "work"}).Run(e); err != nil {
		t.Fatalf("set: %v\n%s", err, s.Log())
	}
	if !strings.Contains(out.String(), `service "dialtone-test", user 4711@example.com`) {
		t.Errorf("set printed %q", out)
	}
	if strings.Contains(out.String(), "pass word 1") {
		t.Fatal("set printed the password")
	}
	f, err := config.Load(e.cli.Config)
	if err != nil {
		t.Fatal(err)
	}
	if pw, err := f.Accounts[0].Password(e.ctx); err != nil || pw != "pass word 1" {
		t.Fatalf("password_keyring reads %q, %v", pw, err)
	}

	// Setting again replaces it.
	e, _ = passwordEnv(t, keyringConfig, "second\n")
	if err := (&passwordSetCmd{Account: "work"}).Run(e); err != nil {
		t.Fatal(err)
	}
	if pw, err := f.Accounts[0].Password(e.ctx); err != nil || pw != "second" {
		t.Fatalf("after a second set: %q, %v", pw, err)
	}

	e, out = passwordEnv(t, keyringConfig, "")
	if err := (&passwordDeleteCmd{Account: "work"}).Run(e); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if !strings.Contains(out.String(), "deleted the password of account work") {
		t.Errorf("delete printed %q", out)
	}
	if _, err := f.Accounts[0].Password(e.ctx); !errors.Is(err, config.ErrKeyringNotFound) || !strings.Contains(err.Error(), "dialtone password set work") {
		t.Fatalf("after delete: %v", err)
	}
	err = (&passwordDeleteCmd{Account: "work"}).Run(e)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "no password stored for 4711@example.com") {
		t.Fatalf("second delete: exit %d, %v", exitCode(err), err)
	}
}

func TestPasswordSetRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		account, stdin, want string
	}{
		{"nobody", "pw\n", `no account named "nobody"`},
		{"env", "pw\n", `account env has no password_keyring (it reads password_env); put password_keyring = "dialtone"`},
		{"work", "", "standard input is empty"},
		{"work", "\n", "standard input is empty"},
		{"work", "one\ntwo\n", "more than one line"},
		{"work", strings.Repeat("x", maxPasswordInput+1), "more than 65536 bytes"},
	} {
		e, out := passwordEnv(t, keyringConfig, tc.stdin)
		err := (&passwordSetCmd{Account: tc.account}).Run(e)
		if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: exit %d, %v; want 2 and %q", tc.account, tc.stdin, exitCode(err), err, tc.want)
		}
		if out.Len() != 0 {
			t.Errorf("%s: printed %q on failure", tc.account, out)
		}
	}
}

// Without a session bus the command says what to install or start, and exits 2 at once.
func TestPasswordSetWithoutKeyringService(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	e, _ := passwordEnv(t, keyringConfig, "pw\n")
	start := time.Now()
	err := (&passwordSetCmd{Account: "work"}).Run(e)
	if exitCode(err) != exitUsage || !errors.Is(err, config.ErrNoKeyring) || !strings.Contains(err.Error(), "gnome-keyring") {
		t.Fatalf("exit %d, %v", exitCode(err), err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v", took)
	}
}

// TestPasswordSetFromAPipeThatNeverClosesStopsOnCtrlC: `password set` reading a pipe whose
// writer never finishes gives up when interrupted, with an error and nothing stored; it
// waited for the pipe for good.
func TestPasswordSetFromAPipeThatNeverClosesStopsOnCtrlC(t *testing.T) {
	e, _ := passwordEnv(t, keyringConfig, "")
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	e.stdin = pr
	ctx, cancel := context.WithCancel(context.Background())
	e.ctx = ctx
	done := make(chan error, 1)
	go func() { done <- (&passwordSetCmd{Account: "work"}).Run(e) }()
	if _, err := pw.Write([]byte("half a passw")); err != nil {
		t.Fatal(err)
	}
	cancel() // Ctrl-C
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "interrupted") {
			t.Fatalf("set returned %v, want an interrupted error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("set still waits for standard input after Ctrl-C")
	}
}
