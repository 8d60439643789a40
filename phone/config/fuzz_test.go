package config

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecode checks that Decode never panics (nor hides a panic behind
// errInternal), that every error is an *Error naming the file and a line,
// and that whatever
// it accepts is valid and survives Save + Load unchanged.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("[[account]]\nname = \"w\"\naor = \"sip:a@b.c\"\n"))
	f.Add([]byte("[sip]\nlisten = \"[::1]:5060\"\n[audio]\nbackend = \"null\"\n"))
	f.Add([]byte("account = [{name = \"a\", aor = \"sips:a@[::1]\", expires = 4}]\n"))
	f.Add([]byte("[[account]]\nname = \"w\"\naor = \"sip:a@b.c\"\ntransport = \"udpx\"\n"))
	f.Add([]byte("[[account]]\n[account.x]\n[[account]]\nexpires = \"ten\"\n"))

	syncWrites = false
	f.Cleanup(func() { syncWrites = true })
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "config.toml")
		got, err := Decode(path, data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if errors.Is(err, errInternal) || strings.Contains(err.Error(), errInternal.Error()) {
				t.Fatalf("recovered panic: %v", err)
			}
			if e.File != path || e.Line < 1 {
				t.Fatalf("error does not name file %q and a line: %v", path, err)
			}
			return
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("Validate after a successful Decode: %v", err)
		}
		if err := Save(path, got); err != nil {
			t.Fatalf("Save of a decoded config: %v", err)
		}
		again, err := Load(path)
		if err != nil {
			t.Fatalf("Load after Save: %v", err)
		}
		assertSameConfig(t, again, got)
	})
}
