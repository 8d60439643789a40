package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dialtone")
	path := filepath.Join(dir, "config.toml")
	orig := &File{
		SIP:   SIP{Listen: "[::]:5062", UserAgent: `dial"tone`, TLSInsecure: true},
		Audio: Audio{Backend: "null", InputDevice: "Mic #1"},
		Accounts: []Account{
			{Name: "work", AOR: "sip:alice@example.com", DisplayName: "Alice \"A\" Liddell", PasswordCmd: "pass show 'sip/work'", Register: boolPtr(false)},
			{Name: "home", AOR: "sips:bob@example.org", Expires: 4, PasswordFile: "~/bob.pass"},
		},
	}
	before := orig.clone()
	if err := Save(path, orig); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(orig, before) {
		t.Errorf("Save modified its argument")
	}

	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %o, want 600", st.Mode().Perm())
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("dir mode: %v, %v; want 700", st.Mode().Perm(), err)
	}

	got, err := Load(path)
	if err != nil {
		t.Fatalf("Load after Save: %v", err)
	}
	want := orig.clone()
	want.Path = path
	if err := want.Validate(); err != nil {
		t.Fatal(err)
	}
	for i := range want.Accounts {
		want.Accounts[i].dir = dir
	}
	assertSameConfig(t, got, want)

	// Saving again over an existing, too-open file keeps 0600 and leaves
	// no temporary files behind.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, got); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("overwritten file mode %o, want 600", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want just config.toml", len(entries))
	}
	again, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	assertSameConfig(t, again, want)
}

func TestSaveRefusesInvalid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	err := Save(path, &File{Accounts: []Account{{Name: "x", AOR: "nope"}}})
	if err == nil || !strings.Contains(err.Error(), "account[0].aor") {
		t.Errorf("Save invalid: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("invalid config was written: %v", err)
	}
}

// assertSameConfig compares two Files, ignoring the key index.
func assertSameConfig(t *testing.T, got, want *File) {
	t.Helper()
	g, w := *got, *want
	g.keys, w.keys = nil, nil
	g.written, w.written = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("config differs:\n got %+v\nwant %+v", g, w)
	}
}

// TestSaveKeepsWhatWasWritten: a file loaded and saved again (the TUI's first-run form adds an
// account this way) keeps its accounts as written: the defaults Load derived from the AOR
// (registrar, auth_user, transport, expires, register) are not pinned into the file, so a later
// edit of aor moves them too. It wrote them all, and the account kept registering at the old
// provider. An account the program changed is written as it is now.
func TestSaveKeepsWhatWasWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte("[[account]]\nname = \"work\"\naor = \"sip:alice@example.com\"\npassword_env = \"PW\"\n\n"+
		"[[account]]\nname = \"home\"\naor = \"sip:bob@example.org\"\npassword_env = \"PW\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Accounts[0].Registrar != "sip:example.com" {
		t.Fatalf("Load did not fill in the defaults: %+v", f.Accounts[0])
	}
	f.Accounts[1].DisplayName = "Bob"
	f.Accounts = append(f.Accounts, Account{Name: "new", AOR: "sip:carol@example.net", PasswordEnv: "PW"})
	if err := Save(path, f); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	work, rest, _ := strings.Cut(string(raw), "name = 'home'")
	for _, k := range []string{"registrar", "auth_user", "transport", "expires", "register"} {
		if strings.Contains(work, k+" =") {
			t.Errorf("the untouched account was saved with its derived %s:\n%s", k, raw)
		}
	}
	if !strings.Contains(rest, "display_name = 'Bob'") {
		t.Errorf("the changed account lost its change:\n%s", raw)
	}
	again, err := Load(path)
	if err != nil || len(again.Accounts) != 3 || again.Accounts[0].Registrar != "sip:example.com" {
		t.Fatalf("reloaded %+v, %v", again, err)
	}
}
