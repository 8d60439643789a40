package interop

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// randomPassword is 24 letters and digits: distinctive enough that finding it anywhere is a
// leak, and free of characters JSON or a log line would escape (an escaped copy would slip
// past the search).
func randomPassword(t *testing.T) string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "Pw" + string(b[2:])
}

// secretForms are the strings that give a password away: itself and its digest HA1
// (md5(user:realm:password), which authenticates as well as the password does).
func secretForms(user, realm, password string) map[string]string {
	sum := md5.Sum([]byte(user + ":" + realm + ":" + password))
	ha1 := hex.EncodeToString(sum[:])
	return map[string]string{"password": password, "HA1": ha1, "HA1 (upper case)": strings.ToUpper(ha1)}
}

// secretScan collects every output of a session, by name, to search for the password.
type secretScan map[string]string

func (s secretScan) proc(name string, p *proc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s[name+" stdout"] = strings.Join(p.stdout, "\n")
	s[name+" stderr"] = p.stderr.String()
}

// cmdline records the argv of a running process as the kernel shows it to every user.
func (s secretScan) cmdline(t *testing.T, name string, p *proc) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("%s: reading its argv: %v", name, err)
	}
	if len(b) == 0 {
		t.Fatalf("%s: empty /proc cmdline (process gone?)", name)
	}
	s[name+" argv"] = strings.ReplaceAll(string(b), "\x00", " ")
}

// tree adds every regular file under dir (the history database, its -wal and -shm), under
// the label when (files change as the phone runs).
func (s secretScan) tree(t *testing.T, when, dir string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		s[when+" "+path] = string(b)
		n++
		return nil
	})
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	if n == 0 {
		t.Fatalf("%s holds no files: the history was not written, nothing to search", dir)
	}
}

func (s secretScan) file(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		t.Fatalf("%s is empty: nothing to search", path)
	}
	s[path] = string(b)
}

// check fails the test for every output holding a form of the secret. It first proves the
// search works on a text known to hold each form, so a broken search cannot pass.
func (s secretScan) check(t *testing.T, forms map[string]string) {
	t.Helper()
	for what, secret := range forms {
		if len(leaks("x="+secret+";", forms)) == 0 {
			t.Fatalf("the search does not find the %s in a text that holds it", what)
		}
	}
	for where, text := range s {
		for _, l := range leaks(text, forms) {
			t.Errorf("%s: %s", where, l)
		}
	}
	t.Logf("searched %d outputs for %d forms of the password: %q", len(s), len(forms), slices.Sorted(maps.Keys(s)))
}

// leaks describes each place in text where a form of the secret appears, with context.
func leaks(text string, forms map[string]string) []string {
	var out []string
	for what, secret := range forms {
		if i := strings.Index(text, secret); i >= 0 {
			lo, hi := max(0, i-120), min(len(text), i+len(secret)+40)
			out = append(out, fmt.Sprintf("the %s leaks: …%q…", what, text[lo:hi]))
		}
	}
	return out
}

// TestSecretsNeverLeak: a whole session with a distinctive password (register with a password
// file and with a password command, a call with audio, a MESSAGE, doctor with a TURN allocation
// on coturn under a second distinctive password, JSON events, a SIP trace, a debug log, the
// history database with its -wal, and `history --json`) writes neither password nor its digest
// HA1 / TURN long-term key anywhere (stdout, stderr, trace, log, every file of the data
// directory), and neither appears in the argv of the running processes. Kamailio challenges
// REGISTER, INVITE and MESSAGE, so every request that could carry the secret does carry
// credentials.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	secret := randomPassword(t)
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: map[string]string{"alice": secret, "bob": users["bob"]}, AuthCalls: true})
	forms := secretForms("alice", k.Domain(), secret)
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"),
		AutoAnswer: true, ToneHz: 700, Contacts: []string{"sip:alice@127.0.0.1"}})

	dir := t.TempDir()
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir, trace, logFile := filepath.Join(dir, "data"), filepath.Join(dir, "sip.trace"), filepath.Join(dir, "debug.log")
	common := append([]string{"--json", "--sip-trace", trace, "--log-level", "debug", "--log-file", logFile,
		"--data-dir", dataDir, "--password-file", pwFile}, adhoc(k, "udp", "alice")...)
	scan := secretScan{}

	code, _, p := runDialtone(t, 30*time.Second, nil, append([]string{"register", "--once"}, common...)...)
	scan.proc("register", p)
	if code != 0 {
		t.Fatalf("register: exit %d\n%s", code, p.transcript())
	}

	// A long-running registration whose password comes from a command: its argv shows the
	// command, never what it printed.
	withCmd := make([]string, 0, len(common))
	for i := 0; i < len(common); i++ {
		if common[i] == "--password-file" {
			withCmd = append(withCmd, "--password-cmd", "cat "+pwFile)
			i++
			continue
		}
		withCmd = append(withCmd, common[i])
	}
	reg := startDialtone(t, nil, append([]string{"register"}, withCmd...)...)
	reg.waitEvent("registered", 20*time.Second)
	scan.cmdline(t, "register --password-cmd", reg)
	reg.signal(sigterm)
	code, _ = reg.wait(15 * time.Second)
	scan.proc("register --password-cmd", reg)
	if code != 0 {
		t.Fatalf("register --password-cmd: exit %d\n%s", code, reg.transcript())
	}

	tone := makeTone(t, 1300, 20, 8000)
	rec := filepath.Join(dir, "from-bob.wav")
	call := startDialtone(t, nil, append([]string{"call", "sip:bob@127.0.0.1", "--play", tone, "--record", rec, "--duration", "3s"}, common...)...)
	call.waitEvent("answered", 20*time.Second)
	scan.cmdline(t, "call", call)
	scan.tree(t, "mid-call", dataDir) // the WAL as a running phone has it
	code, _ = call.wait(30 * time.Second)
	scan.proc("call", call)
	if code != 0 {
		t.Fatalf("call: exit %d\n%s\nbaresip:\n%s", code, call.transcript(), bob.Log())
	}
	assertTone(t, rec, 700, 2) // the call really carried audio

	msg := startDialtone(t, nil, append([]string{"message", "sip:bob@127.0.0.1", "secrets test message"}, common...)...)
	code, _ = msg.wait(20 * time.Second)
	scan.proc("message", msg)
	if code != 0 {
		t.Fatalf("message: exit %d\n%s", code, msg.transcript())
	}

	// doctor names the password source, checks REGISTER and allocates on coturn with a
	// distinctive TURN password: it must show neither secret.
	turnSecret := randomPassword(t)
	turn := peers.StartCoturn(t, peers.CoturnOptions{User: "alice", Password: turnSecret, Realm: "secrets.test"})
	turnPwFile := filepath.Join(dir, "turn-password")
	if err := os.WriteFile(turnPwFile, []byte(turnSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range secretForms("alice", turn.Realm(), turnSecret) {
		forms["TURN "+k] = v // the long-term key is md5(user:realm:password), like HA1
	}
	code, evs, p := runDialtone(t, 90*time.Second, nil, append([]string{"doctor", "--turn-server", turn.Addr(0), "--turn-user", "alice",
		"--turn-password-file", turnPwFile}, common...)...)
	scan.proc("doctor", p)
	doc, _ := findEvent(evs, "doctor")
	if code != 0 || !strings.Contains(p.transcript(), "password_file") {
		t.Fatalf("doctor: exit %d, or no password source named\n%s", code, p.transcript())
	}
	turnOK := false
	checks, _ := doc["checks"].([]any)
	for _, c := range checks {
		if m, ok := c.(map[string]any); ok && m["name"] == "turn" && m["status"] == "ok" {
			turnOK = true
		}
	}
	if !turnOK {
		t.Fatalf("doctor's TURN check did not pass, so the TURN password was never used\n%s\ncoturn:\n%s", p.transcript(), turn.Log())
	}

	code, evs, p = runDialtone(t, 10*time.Second, nil, "history", "--json", "--data-dir", dataDir)
	scan.proc("history", p)
	if code != 0 || len(evs) < 2 {
		t.Fatalf("history: exit %d, %d rows (want the call and the message)\n%s", code, len(evs), p.transcript())
	}

	// No command offers a flag that takes the password itself (it would sit in argv, which
	// every local user can read in /proc): only files, commands and the environment.
	for _, cmd := range []string{"register", "call", "message", "answer", "serve", "doctor", "tui"} {
		code, _, p := runDialtone(t, 10*time.Second, nil, cmd, "--help")
		if code != 0 {
			t.Fatalf("%s --help: exit %d\n%s", cmd, code, p.transcript())
		}
		for _, line := range strings.Split(p.transcript(), "\n") {
			f := strings.Fields(line)
			if len(f) > 0 && (strings.HasPrefix(f[0], "--password=") || strings.HasPrefix(f[0], "--turn-password=") || f[0] == "--password") {
				t.Errorf("%s offers %s: a password on the command line is visible to every user", cmd, f[0])
			}
		}
	}

	scan.file(t, trace)
	scan.file(t, logFile)
	scan.tree(t, "after", dataDir)
	// The trace must hold the credentials we search around, or the search proves nothing.
	if !strings.Contains(scan[trace], "Authorization: Digest") || !strings.Contains(scan[trace], "MESSAGE sip:") {
		t.Fatalf("the SIP trace lacks the authenticated requests:\n%.2000s", scan[trace])
	}
	scan.check(t, forms)
}

// TestWrongPasswordErrorHidesIt: a rejected password is reported without the password (or its
// HA1) in the error, the events, the log or the trace.
func TestWrongPasswordErrorHidesIt(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users, AuthCalls: true})
	wrong := randomPassword(t)
	dir := t.TempDir()
	trace, logFile := filepath.Join(dir, "sip.trace"), filepath.Join(dir, "debug.log")
	scan := secretScan{}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"register json", []string{"register", "--once", "--json"}},
		{"register text", []string{"register", "--once", "--sip-trace", trace, "--log-level", "debug", "--log-file", logFile}},
		{"message", []string{"message", "sip:bob@127.0.0.1", "x", "--json"}},
	} {
		code, _, p := runDialtone(t, 30*time.Second, []string{"DIALTONE_PASSWORD=" + wrong}, append(c.args, adhoc(k, "udp", "alice")...)...)
		scan.proc(c.name, p)
		if code != 3 {
			t.Fatalf("%s: exit %d, want 3 (authentication failed)\n%s", c.name, code, p.transcript())
		}
		if c.name == "register text" && !strings.Contains(p.transcript(), "alice") {
			t.Errorf("%s: the error does not say which account failed:\n%s", c.name, p.transcript())
		}
	}
	scan.file(t, trace)
	scan.file(t, logFile)
	scan.check(t, secretForms("alice", k.Domain(), wrong))
}
