package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestModeWarning(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows files have ACLs, not Unix modes")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		mode os.FileMode
		want string // "" means no warning
	}{
		{0o600, ""},
		{0o400, ""},
		{0o644, "is readable by other users (mode 0644); chmod 600 it"},
		{0o640, "is readable by other users (mode 0640); chmod 600 it"},
		{0o604, "is readable by other users (mode 0604); chmod 600 it"},
		{0o620, "is writable by other users (mode 0620); chmod 600 it"},
	} {
		path := filepath.Join(dir, tc.mode.String())
		if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, tc.mode); err != nil { // not subject to the umask
			t.Fatal(err)
		}
		got := ModeWarning(path)
		if tc.want == "" && got != "" || tc.want != "" && got != path+" "+tc.want {
			t.Errorf("mode %04o: %q, want %q", tc.mode, got, tc.want)
		}
	}
	if w := ModeWarning(filepath.Join(dir, "missing")); w != "" {
		t.Errorf("missing file warned: %q", w)
	}
	if w := ModeWarning(""); w != "" {
		t.Errorf("no path warned: %q", w)
	}
}

// TestFileWarningsCoverConfigAndPasswordFiles: the config file, an account's password_file and
// turn_password_file, and [sip] turn_password_file (relative paths beside the config) are each
// warned about when others can read them, and nothing is said when all are 0600.
func TestFileWarningsCoverConfigAndPasswordFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows files have ACLs, not Unix modes")
	}
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfgText := `[sip]
turn_server = "203.0.113.9"
turn_user = "shared"
turn_password_file = "sip-turn.pw"

[[account]]
name = "alice"
aor = "sip:alice@example.com"
password_file = "alice.pw"
turn_server = "203.0.113.8"
turn_user = "mine"
turn_password_file = "alice-turn.pw"
`
	for _, wide := range []bool{false, true} {
		mode := os.FileMode(0o600)
		if wide {
			mode = 0o644
		}
		cfgPath := write("config.toml", cfgText, mode)
		write("sip-turn.pw", "t1\n", mode)
		write("alice.pw", "a1\n", mode)
		write("alice-turn.pw", "t2\n", mode)
		f, err := Load(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		ws := append(f.FileWarnings(), f.Accounts[0].FileWarnings()...)
		if !wide {
			if len(ws) != 0 {
				t.Errorf("0600 files warned: %q", ws)
			}
			continue
		}
		want := []string{
			cfgPath + " is readable by other users (mode 0644); chmod 600 it",
			"[sip]: turn_password_file " + filepath.Join(dir, "sip-turn.pw") + " is readable",
			"account alice: password_file " + filepath.Join(dir, "alice.pw") + " is readable",
			"account alice: turn_password_file " + filepath.Join(dir, "alice-turn.pw") + " is readable",
		}
		if len(ws) != len(want) {
			t.Fatalf("warnings %q, want %d", ws, len(want))
		}
		for i, w := range want {
			if !strings.HasPrefix(ws[i], w) {
				t.Errorf("warning %d = %q, want it to start %q", i, ws[i], w)
			}
		}
		if all := f.Warnings(); len(all) != len(want) {
			t.Errorf("Warnings() = %q, want the %d file warnings", all, len(want))
		}
	}
}
