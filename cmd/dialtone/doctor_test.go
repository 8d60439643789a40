package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/diag"
)

func sampleReport() *diag.Report {
	ok := &diag.Check{Name: "config", Title: "account home", Status: diag.OK,
		Facts: diag.Facts{{Key: "aor", Value: "sip:alice@example.com"}, {Key: "password", Value: "password_env X (set)"}}}
	tp := &diag.Check{Name: "transport-udp", Title: "OPTIONS over udp", Status: diag.Fail, Failure: phone.FailureNetwork,
		Facts:   diag.Facts{{Key: "targets", Value: []map[string]any{{"target": "198.51.100.1:5060", "answer": "no answer (timeout)", "found_by": "literal"}}}},
		Verdict: "no SIP server answers over udp", Fix: "check the host"}
	dns := &diag.Check{Name: "dns", Title: "DNS", Status: diag.OK,
		Facts: diag.Facts{{Key: "records", Value: []diag.Record{{Type: "SRV", Name: "_sip._udp.example.com", TTL: 300, Value: "10 0 5060 sip.example.com."}}}}}
	skip := &diag.Check{Name: "register", Title: "REGISTER round trip", Status: diag.Skipped, Verdict: "the server does not answer"}
	return &diag.Report{Account: "home", AOR: "sip:alice@example.com", Checks: []*diag.Check{ok, dns, tp, skip}}
}

func TestWriteDoctorText(t *testing.T) {
	var b bytes.Buffer
	at := time.Date(2026, 12, 5, 15, 0, 0, 0, time.UTC)
	if err := writeDoctor(&b, false, sampleReport(), at, 4); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"dialtone doctor — dialtone ", "2026-12-05T15:00:00Z", "account home (sip:alice@example.com)",
		"1. [OK] config: account home", "   aor              sip:alice@example.com",
		"     - SRV   _sip._udp.example.com 10 0 5060 sip.example.com. (ttl 300)",
		"3. [FAIL] transport-udp", "     - 198.51.100.1:5060  answer=no answer (timeout)  found_by=literal",
		"   verdict: no SIP server answers over udp", "   fix:     check the host",
		"4. [SKIPPED] register", "   why:     the server does not answer",
		"result: fail (exit 4): 2 ok, 0 warning(s), 1 failed, 1 skipped",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteDoctorJSON(t *testing.T) {
	var b bytes.Buffer
	if err := writeDoctor(&b, true, sampleReport(), time.Now(), 4); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "\n"); n != 1 {
		t.Fatalf("%d lines, want one JSON document on one line", n)
	}
	var doc struct {
		Event, Time, Result, Failure, Account string
		ExitCode                              int `json:"exit_code"`
		Checks                                []struct {
			Name, Status, Verdict, Fix string
			Facts                      map[string]any
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("%v: %s", err, b.String())
	}
	if doc.Event != "doctor" || doc.Time == "" || doc.Result != "fail" || doc.Failure != "network" || doc.ExitCode != 4 || doc.Account != "home" {
		t.Fatalf("header %+v", doc)
	}
	if len(doc.Checks) != 4 || doc.Checks[2].Status != "fail" || doc.Checks[2].Fix == "" || doc.Checks[0].Facts["aor"] != "sip:alice@example.com" {
		t.Fatalf("checks %+v", doc.Checks)
	}
}

// The exit code is the first failed check's class; warnings exit 0, or 6 with --strict.
func TestDoctorExitCodes(t *testing.T) {
	out := func(args ...string) (int, string) {
		var so, se bytes.Buffer
		code := run(t.Context(), args, strings.NewReader(""), &so, &se)
		return code, so.String() + se.String()
	}
	cfg := t.TempDir() + "/empty.toml"
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// No account at all: a usage error before any check.
	if code, o := out("--config", cfg, "doctor"); code != exitUsage || !strings.Contains(o, "no accounts") {
		t.Fatalf("no account: exit %d: %s", code, o)
	}
	// A missing password source is the config check's failure: exit 2, nothing sent (the
	// registrar is a closed loopback port and --no-register keeps it so).
	t.Setenv("DIALTONE_PASSWORD", "")
	code, o := out("--config", cfg, "doctor", "--no-register", "--aor", "sip:alice@127.0.0.1", "--registrar", "sip:127.0.0.1:9")
	if code != exitUsage || !strings.Contains(o, "[FAIL] config") {
		t.Fatalf("missing password: exit %d:\n%s", code, o)
	}
	rep := &diag.Report{Checks: []*diag.Check{{Status: diag.OK}, {Status: diag.Warn}}}
	if rep.Worst() != diag.Warn || rep.WorstFailure() != phone.NoFailure {
		t.Fatal("warnings are not failures")
	}
}
