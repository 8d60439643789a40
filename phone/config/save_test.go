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
	if !reflect.DeepEqual(g, w) {
		t.Errorf("config differs:\n got %+v\nwant %+v", g, w)
	}
}
