package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// manPage is `dialtone man`'s output.
func manPage(t *testing.T) string {
	t.Helper()
	code, out, errOut := runArgs(t, "man")
	if code != 0 {
		t.Fatalf("man: exit %d, stderr %q", code, errOut)
	}
	return out
}

// TestManPageStructure: dialtone(1) has the sections a man page has, a section per command of
// kong's model with every flag, the exit codes, and no text line that roff would take for a
// request (a help text starting with a dot).
func TestManPageStructure(t *testing.T) {
	page := manPage(t)
	lines := strings.Split(page, "\n")
	if !strings.HasPrefix(lines[1], `.TH DIALTONE 1 `) {
		t.Fatalf("second line %q: want the .TH title line", lines[1])
	}
	for _, want := range []string{".SH NAME\ndialtone \\- a terminal SIP softphone\n", ".SH SYNOPSIS\n", ".SH DESCRIPTION\n",
		".SH GLOBAL FLAGS\n", ".SH COMMANDS\n", ".SH EXIT STATUS\n", ".SH ENVIRONMENT\n", ".SH FILES\n",
		".TP\n.B 17\nMedia encryption", ".B DIALTONE_PASSWORD\n"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	requests := map[string]bool{`.\"`: true, ".TH": true, ".SH": true, ".SS": true, ".TP": true, ".PP": true,
		".B": true, ".I": true, ".RI": true, ".BR": true, ".nh": true, ".ad": true}
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			if req, _, _ := strings.Cut(l, " "); !requests[req] {
				t.Errorf("line %d %q: not a man macro (unescaped text?)", i+1, l)
			}
		}
	}
	root, err := cliSpec("dialtone", "")
	if err != nil {
		t.Fatal(err)
	}
	sections := 0
	root.walk(func(c *cmdSpec) {
		if len(c.path) > 0 {
			sections++
			if head := `.SS "dialtone ` + roffText(strings.Join(c.path, " ")); !strings.Contains(page, head) {
				t.Errorf("no section %q", head)
			}
		}
		for _, f := range c.flags {
			if !strings.Contains(page, `\fB\-\-`+roffText(f.long)) && !strings.Contains(page, `\fB\-\-[no\-]`+roffText(f.long)) {
				t.Errorf("command %q: flag --%s is not in the page", c.key(), f.long)
			}
		}
	})
	if got := strings.Count(page, "\n.SS "); got != sections {
		t.Errorf("%d command sections, want %d", got, sections)
	}
	if strings.Contains(page, `.SS "dialtone man`) {
		t.Error("the hidden man command has a section")
	}
}

// TestManPageRenders formats the page with groff (what man(1) runs) with every warning on:
// no warnings, and the text reads as it should.
func TestManPageRenders(t *testing.T) {
	if _, err := exec.LookPath("groff"); err != nil {
		t.Skip("groff is not installed (apt-get install groff-base); TestManPageStructure checked the roff")
	}
	path := filepath.Join(t.TempDir(), "dialtone.1")
	if err := os.WriteFile(path, []byte(manPage(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "groff", "-man", "-Tutf8", "-ww", "-P-cbou", path)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("groff: %v\n%s", err, stderr.String())
	}
	text := string(out)
	for _, want := range []string{"DIALTONE(1)", "NAME\n       dialtone - a terminal SIP softphone", "dialtone call [flags] <target>",
		"--media-encryption=POLICY", "--[no-]loop", "dialtone completion <shell>", "EXIT STATUS"} {
		if !strings.Contains(text, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
}

// TestManHiddenFromHelp: man is for the release build, not a command users look for.
func TestManHiddenFromHelp(t *testing.T) {
	code, out, _ := runArgs(t, "--help")
	if code != 0 || !strings.Contains(out, "completion") {
		t.Fatalf("--help: exit %d, %q", code, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "man" {
			t.Fatalf("--help lists man: %q", l)
		}
	}
}

// TestGoreleaserConfig: goreleaser check accepts .goreleaser.yaml with no deprecation warning
// (make release-check builds and installs the packages; this is the quick part of it).
func TestGoreleaserConfig(t *testing.T) {
	bin, err := exec.LookPath("goreleaser")
	if err != nil {
		gopath, gerr := exec.Command("go", "env", "GOPATH").Output()
		bin = filepath.Join(strings.TrimSpace(string(gopath)), "bin", "goreleaser")
		if _, serr := os.Stat(bin); gerr != nil || serr != nil {
			t.Skip("goreleaser is not installed (make release-check installs v2.16.0)")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "check")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "1 configuration file(s) validated") ||
		strings.Contains(strings.ToLower(string(out)), "deprecated") {
		t.Fatalf("goreleaser check: %v\n%s", err, out)
	}
}
