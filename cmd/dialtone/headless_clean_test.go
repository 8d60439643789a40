package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/dialtone/dialtone/phone"
)

// TestHumanOutputCannotBeRewrittenByTheNetwork: a received message (or any text from the
// network) with terminal escapes and line breaks prints as one line without control
// characters, in the live output and in dialtone history's; JSON keeps the text exact.
func TestHumanOutputCannotBeRewrittenByTheNetwork(t *testing.T) {
	evil := "hi\x1b]52;c;ZXZpbA==\x07\x1b[2J\r\n12:00:01 message from \"Bank\" <sip:bank@example.com>: call me\u009b31m"
	m := phone.Message{Time: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC), Direction: phone.Incoming,
		Peer: "sip:mallory@example.com", Text: evil, Status: "received"}
	var out bytes.Buffer
	(&printer{w: &out}).message(m)
	line := out.String()
	if strings.Count(line, "\n") != 1 || strings.ContainsFunc(strings.TrimSuffix(line, "\n"), unicode.IsControl) {
		t.Fatalf("human output carries control characters or breaks lines: %q", line)
	}
	if !strings.Contains(line, "call me") {
		t.Fatalf("the text itself is gone: %q", line)
	}
	out.Reset()
	(&printer{w: &out, json: true}).message(m)
	got := jsonLines(t, out.String())
	if len(got) != 1 || got[0]["text"] != evil {
		t.Fatalf("JSON text %q, want it exact", got)
	}
}

// TestMultiLineMessagePrintsOnOneLine: a message of several lines (phones send them) prints as
// one line of output with its breaks marked, not as replacement characters.
func TestMultiLineMessagePrintsOnOneLine(t *testing.T) {
	var out bytes.Buffer
	(&printer{w: &out}).message(phone.Message{Time: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC), Direction: phone.Incoming,
		Peer: "sip:carol@example.com", Text: "first line\r\nsecond line\r\n", Status: "received"})
	if got := out.String(); !strings.HasSuffix(got, ": first line ↵ second line\n") {
		t.Fatalf("printed %q", got)
	}
}

// TestErrorLineIsCleaned: the last line on stderr, which can carry a SIP reason phrase (raw from
// the network: sipgo keeps its bytes), and load's failed-call lines lose their control characters.
func TestErrorLineIsCleaned(t *testing.T) {
	var errb bytes.Buffer
	reportExit(&errb, &exitError{code: exitRefused, err: errors.New("message sip:x@y: 403 Forbidden\x1b[2J")})
	if got := errb.String(); strings.ContainsFunc(strings.TrimSuffix(got, "\n"), unicode.IsControl) || !strings.Contains(got, "403 Forbidden") {
		t.Fatalf("error line %q", got)
	}
	var out bytes.Buffer
	printFailedCall(&out, &loadCall{Index: 1, CallID: "c1", Code: 403, Reason: "Forbidden\x1b]52;c;ZXZpbA==\x07"})
	if strings.ContainsFunc(strings.TrimSuffix(out.String(), "\n"), unicode.IsControl) {
		t.Fatalf("failed-call line %q carries control characters", out.String())
	}
}

// TestContactNoteIsCleaned: a contact's note (from a vCard someone sent) prints without the
// control characters it carries.
func TestContactNoteIsCleaned(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	if code, _, errs := runCtxStdin(context.Background(), strings.NewReader(""), "contacts", "add", "Eve", "sip:eve@example.com",
		"--note", "met at\x1b[2J the\r fair", "--data-dir", dir); code != 0 {
		t.Fatalf("contacts add: exit %d: %s", code, errs)
	}
	code, out, errs := runCtxStdin(context.Background(), strings.NewReader(""), "contacts", "list", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "Eve") || strings.ContainsFunc(strings.TrimSuffix(out, "\n"), unicode.IsControl) {
		t.Fatalf("contacts list: exit %d, %q (%s)", code, out, errs)
	}
}

// TestContactsRemoveByNumber: a contact added with a bare number is removed by that number (the
// address lookup only ran for arguments with ':' or '@': exit 2, "no contact").
func TestContactsRemoveByNumber(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	run := func(args ...string) (int, string) {
		code, out, errs := runCtxStdin(context.Background(), strings.NewReader(""), append(args, "--data-dir", dir)...)
		return code, out + errs
	}
	if code, out := run("contacts", "add", "Ann", "+1 555 0100"); code != 0 {
		t.Fatalf("contacts add: exit %d: %s", code, out)
	}
	if code, out := run("contacts", "remove", "+15550100"); code != 0 {
		t.Fatalf("contacts remove +15550100: exit %d: %s", code, out)
	}
	if code, out := run("contacts", "list"); code != 0 || strings.Contains(out, "Ann") {
		t.Fatalf("after the removal: exit %d, %q", code, out)
	}
}

// TestRedirectAndTransferLinesAreCleaned: a redirect's target and reason, and a transferee's
// NOTIFY reason, come from the network: their human lines lose the control characters, and the
// JSON line keeps them exact.
func TestRedirectAndTransferLinesAreCleaned(t *testing.T) {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	r := phone.CallRedirected{Time: at, CallID: "c1", From: "sip:a@example.com", To: "sip:b\x1b[2J@example.com", Code: 302, Reason: "Moved\x1b]52;c;ZXZpbA==\x07"}
	x := phone.TransferProgress{Time: at, CallID: "c1", Code: 200, Reason: "OK\x1b[2J\r\nforged line", Final: true}
	var out bytes.Buffer
	p := &printer{w: &out}
	p.redirected(r)
	p.transfer(x)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || strings.ContainsFunc(out.String(), func(c rune) bool { return c != '\n' && unicode.IsControl(c) }) {
		t.Fatalf("human lines carry control characters or break: %q", out.String())
	}
	if !strings.Contains(lines[0], "redirected to sip:b") || !strings.Contains(lines[0], "302 Moved") {
		t.Fatalf("redirect line %q", lines[0])
	}
	out.Reset()
	(&printer{w: &out, json: true}).redirected(r)
	got := jsonLines(t, out.String())
	if len(got) != 1 || got[0]["event"] != "redirected" || got[0]["peer"] != r.To || got[0]["redirected_from"] != r.From ||
		got[0]["code"] != float64(302) || got[0]["reason"] != r.Reason {
		t.Fatalf("JSON %v", got)
	}
}

// TestVoicemailLines: the voicemail event as a human line (counts, the mailbox cleaned of
// control characters) and as JSON (waiting always there, counts only when the server gave them).
func TestVoicemailLines(t *testing.T) {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	v := phone.Voicemail{Time: at, Account: "work", Waiting: true, Counted: true, New: 2, Old: 8, UrgentNew: 1, MessageAccount: "sip:*97@pbx\x1b[2J"}
	var out bytes.Buffer
	p := &printer{w: &out}
	p.voicemail(v)
	p.voicemail(phone.Voicemail{Time: at, Account: "home"})
	want := "12:00:00 work: voicemail waiting: 2 new (1 urgent), 8 old; mailbox sip:*97@pbx\uFFFD[2J\n12:00:00 home: no new voicemail\n"
	if out.String() != want {
		t.Fatalf("human lines %q, want %q", out.String(), want)
	}
	out.Reset()
	jp := &printer{w: &out, json: true}
	jp.voicemail(v)
	jp.voicemail(phone.Voicemail{Time: at, Account: "home"})
	got := jsonLines(t, out.String())
	if len(got) != 2 || got[0]["event"] != "voicemail" || got[0]["waiting"] != true || got[0]["new"] != float64(2) || got[0]["old"] != float64(8) ||
		got[0]["urgent_new"] != float64(1) || got[0]["urgent_old"] != float64(0) || got[0]["message_account"] != v.MessageAccount {
		t.Fatalf("JSON %v", got)
	}
	if _, counted := got[1]["new"]; got[1]["waiting"] != false || counted {
		t.Fatalf("JSON without counts %v: want waiting false and no counts", got[1])
	}
}
