package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestContactsCommand drives `dialtone contacts` end to end on a temporary data directory:
// add, list (human and --json), import, export, remove, and the exit codes of mistakes.
func TestContactsCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	dd := "--data-dir=" + filepath.Join(dir, "data")
	mustRun := func(want int, args ...string) string {
		t.Helper()
		code, out, errb := runArgs(t, append([]string{dd}, args...)...)
		if code != want {
			t.Fatalf("dialtone %v: exit %d, want %d\nstdout %q\nstderr %q", args, code, want, out, errb)
		}
		return out + errb
	}
	mustRun(0, "contacts", "add", "Bob Builder", "bob@Example.com", "tel:+1 555 0100", "--note", "site B")
	mustRun(0, "contacts", "add", "alice", "sip:alice@example.org")
	if out := mustRun(0, "contacts", "add", "bob builder", "sip:bob@home.example"); !strings.Contains(out, "updated Bob Builder") {
		t.Errorf("adding to an existing name: %q", out)
	}
	// The same address again with parameters gives it them, in its place.
	if out := mustRun(0, "contacts", "add", "alice", "sip:alice@EXAMPLE.org;transport=tls"); !strings.Contains(out, "updated alice") {
		t.Errorf("adding alice's address with parameters: %q", out)
	}
	if out := mustRun(0, "contacts", "list", "--prefix", "ali"); out != "alice  sip:alice@example.org;transport=tls\n" {
		t.Errorf("alice after adding her address with parameters: %q", out)
	}
	mustRun(0, "contacts", "add", "alice", "sip:alice@example.org") // and back
	out := mustRun(0, "contacts", "list")
	want := "alice        sip:alice@example.org\nBob Builder  sip:bob@example.com, tel:+15550100, sip:bob@home.example  (site B)\n"
	if out != want {
		t.Errorf("contacts list:\n%s\nwant\n%s", out, want)
	}
	if out := mustRun(0, "contacts"); out != want {
		t.Errorf("contacts (list is the default):\n%s", out)
	}
	if out := mustRun(0, "contacts", "list", "--prefix", "BO"); !strings.HasPrefix(out, "Bob Builder") || strings.Contains(out, "alice") {
		t.Errorf("contacts list --prefix BO: %q", out)
	}
	var got []contactJSON
	for _, line := range strings.Split(strings.TrimSpace(mustRun(0, "contacts", "list", "--json")), "\n") {
		var c contactJSON
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("--json line %q: %v", line, err)
		}
		got = append(got, c)
	}
	if len(got) != 2 || got[1].Name != "Bob Builder" || len(got[1].URIs) != 3 || got[1].Note != "site B" {
		t.Errorf("contacts list --json = %+v", got)
	}

	// Mistakes are usage errors (2) with a message.
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"contacts", "add", "Carol"}, "expected"},
		{[]string{"contacts", "add", "Carol", "mailto:carol@example.com"}, "not sip, sips or tel"},
		{[]string{"contacts", "add", "Robert", "sip:bob@example.com"}, "another contact"},
		{[]string{"contacts", "remove", "Nobody"}, "no contact"},
		{[]string{"contacts", "import", filepath.Join(dir, "missing.vcf")}, "missing.vcf"},
		{[]string{"contacts", "frob"}, "unexpected argument"},
	} {
		if out := mustRun(2, c.args...); !strings.Contains(out, c.msg) {
			t.Errorf("%v: %q does not say %q", c.args, out, c.msg)
		}
	}
	notVCard := filepath.Join(dir, "not.vcf")
	os.WriteFile(notVCard, []byte("hello\n"), 0o600)
	if out := mustRun(2, "contacts", "import", notVCard); !strings.Contains(out, "line 1") {
		t.Errorf("import of a non-vCard: %q", out)
	}

	// Import the seed exports, export, and import the export into a fresh directory.
	for _, f := range []string{"android-v21.vcf", "ios-v30.vcf", "thunderbird-v40.vcf"} {
		out := mustRun(0, "contacts", "import", filepath.Join("..", "..", "phone", "store", "testdata", "vcard", f))
		if !strings.Contains(out, "added") {
			t.Errorf("import %s: %q", f, out)
		}
	}
	if out := mustRun(0, "contacts", "import", filepath.Join("..", "..", "phone", "store", "testdata", "vcard", "ios-v30.vcf")); !strings.Contains(out, "1 cards: 0 added, 0 updated, 1 unchanged, 0 skipped") {
		t.Errorf("importing again: %q", out)
	}
	vcf := filepath.Join(dir, "book.vcf")
	mustRun(0, "contacts", "export", vcf)
	stdout := mustRun(0, "contacts", "export")
	data, err := os.ReadFile(vcf)
	if err != nil || string(data) != stdout || strings.Count(stdout, "BEGIN:VCARD\r\n") != 6 {
		t.Fatalf("export to a file and to stdout differ or miss cards (%v):\n%s", err, stdout)
	}
	if fi, err := os.Stat(vcf); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("exported file mode: %v, %v", fi.Mode(), err)
	}
	dd2 := "--data-dir=" + filepath.Join(dir, "data2")
	if code, out, errb := runArgs(t, dd2, "contacts", "import", vcf); code != 0 || !strings.Contains(out, "6 added") {
		t.Fatalf("re-import: exit %d %q %q", code, out, errb)
	}
	_, list1, _ := runArgs(t, dd, "contacts", "list")
	_, list2, _ := runArgs(t, dd2, "contacts", "list")
	if list1 != list2 {
		t.Errorf("after export and import:\n%s\nwant\n%s", list2, list1)
	}

	if out := mustRun(0, "contacts", "remove", "<sip:bob@EXAMPLE.com>"); !strings.Contains(out, "removed Bob Builder") {
		t.Errorf("remove by address: %q", out)
	}
	mustRun(0, "contacts", "remove", "ALICE")
	if out := mustRun(0, "contacts", "list"); strings.Contains(out, "Bob") || strings.Contains(out, "alice") {
		t.Errorf("after remove: %q", out)
	}
}
