package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// completionScript is what `dialtone completion SHELL` prints, written to a file in dir.
func completionScript(t *testing.T, shell, dir, name string) string {
	t.Helper()
	code, out, errOut := runArgs(t, "completion", shell)
	if code != 0 || out == "" {
		t.Fatalf("completion %s: exit %d, stderr %q", shell, code, errOut)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// shellOutput runs a shell command line with a deadline.
func shellOutput(t *testing.T, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return string(out)
}

func sortedFields(s string) string {
	f := strings.Fields(s)
	sort.Strings(f)
	return strings.Join(f, " ")
}

// bashComplete returns, per command line, what the bash completion offers (sorted). Each line
// is a list of words; the last is the one being completed (bash's COMP_WORDS, with "=" as a
// word of its own as bash splits --flag=value).
func bashComplete(t *testing.T, script string, lines [][]string) []string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "source %s || exit 1\ncomplete -p dialtone || exit 1\n", shq(script))
	for _, words := range lines {
		var q []string
		for _, w := range words {
			q = append(q, shq(w))
		}
		fmt.Fprintf(&b, "COMP_WORDS=(%s); COMP_CWORD=%d; COMPREPLY=(); _dialtone; echo \"=> ${COMPREPLY[*]}\"\n", strings.Join(q, " "), len(words)-1)
	}
	out := shellOutput(t, 20*time.Second, "bash", "--norc", "--noprofile", "-c", b.String())
	if !strings.HasPrefix(out, "complete -F _dialtone dialtone\n") {
		t.Fatalf("the script does not register a completion for dialtone:\n%s", out)
	}
	var got []string
	for _, l := range strings.Split(out, "\n") {
		if r, ok := strings.CutPrefix(l, "=> "); ok || l == "=>" {
			got = append(got, sortedFields(r))
		}
	}
	if len(got) != len(lines) {
		t.Fatalf("%d answers for %d lines:\n%s", len(got), len(lines), out)
	}
	return got
}

func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestBashCompletion loads `dialtone completion bash` into bash, as `source <(dialtone
// completion bash)` does, and completes commands, nested commands, flags (global ones after
// a command too), enum values in both --flag VALUE and --flag=VALUE form, negated flags,
// files and directories.
func TestBashCompletion(t *testing.T) {
	dir := t.TempDir()
	script := completionScript(t, "bash", dir, "dialtone.bash")
	files := filepath.Join(dir, "files")
	if err := os.MkdirAll(filepath.Join(files, "wavs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(files, "wake.wav"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := cliSpec("dialtone", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{"dialtone", ""}, strings.Join(root.subNames(), " ")},
		{[]string{"dialtone", "ca"}, "call"},
		{[]string{"dialtone", "--account", "call", ""}, strings.Join(root.subNames(), " ")}, // "call" is the account
		{[]string{"dialtone", "call", "--pl"}, "--play"},
		{[]string{"dialtone", "--account", "alice", "call", "--au"}, "--audio --auth-user"},
		{[]string{"dialtone", "--transport", ""}, "tcp tls udp"},
		{[]string{"dialtone", "--transport", "=", "t"}, "tcp tls"},
		{[]string{"dialtone", "--transport", "="}, "tcp tls udp"},
		{[]string{"dialtone", "call", "--audio", "n"}, "null"},
		{[]string{"dialtone", "--log-level", "w"}, "warn"},
		{[]string{"dialtone", "password", ""}, "delete set"},
		{[]string{"dialtone", "password", "set", "--js"}, "--json"},
		{[]string{"dialtone", "load", "--no-l"}, "--no-loop"},
		{[]string{"dialtone", "completion", ""}, "bash fish zsh"},
		{[]string{"dialtone", "call", "--play", files + "/wa"}, files + "/wake.wav " + files + "/wavs"},
		{[]string{"dialtone", "--data-dir", files + "/wa"}, files + "/wavs"},
		{[]string{"dialtone", "call", "sip:bob@example.com", ""}, ""}, // a target is not a file
	} {
		got := bashComplete(t, script, [][]string{tc.words})[0]
		if got != sortedFields(tc.want) {
			t.Errorf("%q<TAB>: got %q, want %q", strings.Join(tc.words, " "), got, sortedFields(tc.want))
		}
	}
	if slices.Contains(root.subNames(), "man") {
		t.Error("the hidden man command is offered as a completion")
	}
}

// TestBashCompletionCoversTheCommandLine: every command of kong's model completes after its
// parent, and after it every flag it accepts (its own, its parents', the global ones), so a
// command or flag added to cli.go is completed without anyone touching the generator.
func TestBashCompletionCoversTheCommandLine(t *testing.T) {
	script := completionScript(t, "bash", t.TempDir(), "dialtone.bash")
	root, err := cliSpec("dialtone", "")
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]string
	var want []string
	root.walk(func(c *cmdSpec) {
		words := append([]string{"dialtone"}, c.path...)
		if len(c.path) > 0 {
			parent := append([]string{}, words[:len(words)-1]...)
			lines = append(lines, append(parent, c.name[:1]))
			want = append(want, c.name)
		}
		lines = append(lines, append(append([]string{}, words...), "--"))
		var flags []string
		for _, f := range visibleFlags(root, c) {
			for _, s := range f.spellings() {
				if strings.HasPrefix(s, "--") {
					flags = append(flags, s)
				}
			}
		}
		want = append(want, strings.Join(flags, " "))
	})
	got := bashComplete(t, script, lines)
	for i := range lines {
		if !containsAll(got[i], want[i]) {
			t.Errorf("%q<TAB>: got %q, want all of %q", strings.Join(lines[i], " "), got[i], want[i])
		}
	}
	if len(lines) < 20 {
		t.Fatalf("only %d command lines checked: the model has fewer commands than it should", len(lines))
	}
}

func containsAll(got, want string) bool {
	have := strings.Fields(got)
	for _, w := range strings.Fields(want) {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// TestZshCompletion drives zsh's real completion system (compinit, _arguments, _describe)
// on a pseudo-terminal with the generated _dialtone in $fpath, as the packages install it.
func TestZshCompletion(t *testing.T) {
	if _, err := exec.LookPath("zsh"); err != nil {
		t.Skip("zsh is not installed (apt-get install zsh)")
	}
	dir := t.TempDir()
	script := completionScript(t, "zsh", dir, "_dialtone")
	shellOutput(t, 10*time.Second, "zsh", "-n", script)
	harness, err := filepath.Abs("testdata/zsh-complete.zsh")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ line, want string }{
		{"dialtone ca", "call"},
		{"dialtone call --pl", "--play"},
		{"dialtone --transport ", "tcp tls udp"},
		{"dialtone --log-level=", "debug error info warn"},
		{"dialtone password ", "delete set"},
		{"dialtone completion ", "bash fish zsh"},
	} {
		out := shellOutput(t, 20*time.Second, "zsh", "-f", harness, dir, tc.line)
		got := map[string]bool{}
		for _, w := range strings.Fields(out) {
			got[w] = true
		}
		var keys []string
		for k := range got {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if strings.Join(keys, " ") != tc.want {
			t.Errorf("zsh %q<TAB>: got %q, want %q", tc.line, strings.Join(keys, " "), tc.want)
		}
	}
}

// TestFishCompletion loads the generated script into fish and asks fish what it completes.
func TestFishCompletion(t *testing.T) {
	if _, err := exec.LookPath("fish"); err != nil {
		t.Skip("fish is not installed (apt-get install fish)")
	}
	script := completionScript(t, "fish", t.TempDir(), "dialtone.fish")
	shellOutput(t, 10*time.Second, "fish", "--no-config", "-n", script)
	cases := []struct{ line, want string }{
		{"dialtone ca", "call"},
		{"dialtone call --pl", "--play"},
		{"dialtone --account alice call --pl", "--play"},
		{"dialtone --account call --pl", ""}, // "call" is the account: no command yet
		{"dialtone --transport ", "tcp tls udp"},
		{"dialtone --log-level=", "--log-level=debug --log-level=error --log-level=info --log-level=warn"},
		{"dialtone password ", "delete set"},
		{"dialtone load --no-l", "--no-loop"},
		{"dialtone completion ", "bash fish zsh"},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "source %s; or exit 1\n", shq(script))
	for _, tc := range cases {
		fmt.Fprintf(&b, "echo '=>' (complete -C %s | string replace -r '\\t.*' '')\n", shq(tc.line))
	}
	out := shellOutput(t, 20*time.Second, "fish", "--no-config", "-c", b.String())
	var got []string
	for _, l := range strings.Split(out, "\n") {
		if r, ok := strings.CutPrefix(l, "=>"); ok {
			got = append(got, sortedFields(r))
		}
	}
	if len(got) != len(cases) {
		t.Fatalf("%d answers for %d lines:\n%s", len(got), len(cases), out)
	}
	for i, tc := range cases {
		if got[i] != tc.want {
			t.Errorf("fish %q<TAB>: got %q, want %q", tc.line, got[i], tc.want)
		}
	}
}

// TestCompletionUnknownShell: a shell it has no script for is a usage error, not an empty script.
func TestCompletionUnknownShell(t *testing.T) {
	code, out, errOut := runArgs(t, "completion", "tcsh")
	if code != exitUsage || out != "" || !strings.Contains(errOut, "bash") {
		t.Fatalf("completion tcsh: exit %d, stdout %q, stderr %q; want exit 2 naming the shells", code, out, errOut)
	}
}
