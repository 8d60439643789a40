package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// writeMode writes a file and sets its mode exactly (os.WriteFile's mode passes the umask).
func writeMode(t *testing.T, path, text string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// TestPermissionWarningsOnce: a config file, password_file, turn_password_file and
// --turn-password-file that others can read are each warned about once in the log, naming the
// file, its mode and the fix, and the phone is configured all the same.
func TestPermissionWarningsOnce(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows files have ACLs, not Unix modes")
	}
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config.toml")
	writeMode(t, cfgFile, `[[account]]
name = "alice"
aor = "sip:alice@127.0.0.1"
password_file = "alice.pw"
turn_server = "203.0.113.8"
turn_user = "mine"
turn_password_file = "alice-turn.pw"
`, 0o644)
	writeMode(t, filepath.Join(dir, "alice.pw"), "pw\n", 0o640)
	writeMode(t, filepath.Join(dir, "alice-turn.pw"), "tpw\n", 0o604)
	flagTURN := filepath.Join(dir, "flag-turn.pw")
	writeMode(t, flagTURN, "fpw\n", 0o660)

	var logBuf bytes.Buffer
	e := &env{cli: &cli{Config: cfgFile, TURNServer: "203.0.113.9", TURNUser: "u", TURNPasswordFile: flagTURN},
		log: slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	cfg, err := e.phoneConfig()
	if err != nil {
		t.Fatalf("a wide mode must not fail: %v", err)
	}
	if len(cfg.Accounts) != 1 || cfg.TURN == nil {
		t.Fatalf("configured %+v", cfg)
	}
	log := logBuf.String()
	for _, want := range []string{
		cfgFile + " is readable by other users (mode 0644); chmod 600 it",
		"password_file " + filepath.Join(dir, "alice.pw") + " is readable by other users (mode 0640); chmod 600 it",
		"turn_password_file " + filepath.Join(dir, "alice-turn.pw") + " is readable by other users (mode 0604); chmod 600 it",
		"--turn-password-file " + flagTURN + " is readable by other users (mode 0660); chmod 600 it",
	} {
		if n := strings.Count(log, want); n != 1 {
			t.Errorf("%q logged %d times, want once:\n%s", want, n, log)
		}
	}

	// All 0600: nothing to say.
	for _, p := range []string{cfgFile, filepath.Join(dir, "alice.pw"), filepath.Join(dir, "alice-turn.pw"), flagTURN} {
		if err := os.Chmod(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	logBuf.Reset()
	if _, err := e.phoneConfig(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logBuf.String(), "chmod") {
		t.Errorf("0600 files warned about:\n%s", logBuf.String())
	}
}

// TestPermissionWarningOnStderr: through the whole command line, the warning reaches stderr
// once (the default log) and the command still succeeds.
func TestPermissionWarningOnStderr(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows files have ACLs, not Unix modes")
	}
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", dir)
	cfgFile := filepath.Join(dir, "config.toml")
	writeMode(t, cfgFile, "[sip]\nuser_agent = \"perm-test\"\n", 0o644)
	code, _, errOut := runArgs(t, "call", "echo", "--audio", "null", "--duration", "300ms", "--config", cfgFile)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	want := cfgFile + " is readable by other users (mode 0644); chmod 600 it"
	if n := strings.Count(errOut, want); n != 1 {
		t.Fatalf("stderr says %q %d times, want once:\n%s", want, n, errOut)
	}
}
