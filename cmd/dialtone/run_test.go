package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/phone"
)

func runArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10e9)
	defer cancel()
	return runCtx(ctx, args...)
}

// runCtx runs the command line with ctx as the signal context, empty stdin, and returns the
// exit code, stdout and stderr.
func runCtx(ctx context.Context, args ...string) (int, string, string) {
	return runCtxStdin(ctx, strings.NewReader(""), args...)
}

// runCtxStdin is runCtx with stdin as the command's standard input.
func runCtxStdin(ctx context.Context, stdin io.Reader, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(ctx, args, stdin, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersionSaysWhetherPortAudioIsCompiledIn(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, _ := runArgs(t, args...)
		if code != 0 || !strings.Contains(out, "dialtone ") || !strings.Contains(out, "portaudio: ") || !strings.Contains(out, "go:") {
			t.Fatalf("%v: exit %d, output %q", args, code, out)
		}
	}
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"register", "--help"}, {"call", "--help"}, {"answer", "--help"}, {"devices", "--help"}, {"version", "--help"}} {
		code, out, _ := runArgs(t, args...)
		if code != 0 || !strings.Contains(out, "Usage: dialtone") {
			t.Fatalf("%v: exit %d, output %q", args, code, out)
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir) // no config file there
	t.Setenv("XDG_DATA_HOME", dir)
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("[sip]\nlisten = 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"register", "--bogus"}, "unknown flag"},
		{[]string{"frobnicate"}, "unexpected argument"},
		{[]string{"register", "--transport", "carrier-pigeon", "--aor", "sip:a@b"}, "transport"},
		{[]string{"register"}, "no accounts"},
		{[]string{"register", "--registrar", "sip:h"}, "need --aor"},
		{[]string{"register", "--aor", "alice"}, "sip:"},
		{[]string{"register", "--aor", "sip:a@b", "--password-file", "f", "--password-cmd", "c"}, "exclusive"},
		{[]string{"register", "--config", filepath.Join(dir, "missing.toml")}, "missing.toml"},
		{[]string{"register", "--config", bad}, bad + ":2"},
		{[]string{"register", "--aor", "sip:a@b", "--tls-ca", filepath.Join(dir, "nope.pem")}, "--tls-ca"},
		{[]string{"register", "--aor", "sip:a@b", "--tls-ca", bad}, "no PEM certificate"},
		{[]string{"--log-level", "loud", "version"}, "log-level"},
		{[]string{"call", "echo", "--rtp-ports", "9-5"}, "rtp-ports"},
		{[]string{}, "needs a terminal"},
		// A target the core refuses after the phone started: it must stop, not hang (it did).
		{[]string{"call", "bob", "--audio", "null", "--listen", "127.0.0.1:0"}, "give a SIP URI"},
		{[]string{"call", "echo", "--rtp-ports", "20000"}, "rtp-ports"},
	} {
		code, _, errOut := runArgs(t, c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errOut, c.want)
		}
	}
}

func TestExitCodeTable(t *testing.T) {
	want := map[phone.Failure]int{
		phone.NoFailure: 0, phone.FailureAuth: 3, phone.FailureNetwork: 4, phone.FailureRefused: 5,
		phone.FailureConfig: 2, phone.FailureBusy: 10, phone.FailureNoAnswer: 11, phone.FailureDeclined: 12,
		phone.FailureNotFound: 13, phone.Failure(99): 1,
	}
	for f, code := range want {
		if got := exitCodeFor(f); got != code {
			t.Errorf("exitCodeFor(%v) = %d, want %d", f, got, code)
		}
	}
}
