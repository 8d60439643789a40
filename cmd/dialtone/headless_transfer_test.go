package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone"
)

// TestPrintTransfer: the "transfer" line carries code, reason and final (also when false, so
// a script can tell progress from the outcome), and the text form says done or failed.
func TestPrintTransfer(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var b bytes.Buffer
	p := &printer{w: &b, json: true}
	p.event(phone.TransferProgress{Time: at, CallID: "c1", Code: 180, Reason: "Ringing"})
	p.event(phone.TransferProgress{Time: at, CallID: "c1", Account: "work", Code: 200, Reason: "OK", Final: true})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %q", b.String())
	}
	var first, last map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &last); err != nil {
		t.Fatal(err)
	}
	if first["event"] != "transfer" || first["code"] != 180.0 || first["final"] != false || first["time"] != "2026-01-02T03:04:05Z" {
		t.Errorf("progress line %s", lines[0])
	}
	if last["final"] != true || last["code"] != 200.0 || last["account"] != "work" || last["call_id"] != "c1" {
		t.Errorf("final line %s", lines[1])
	}
	b.Reset()
	p.json = false
	p.event(phone.TransferProgress{Time: at, CallID: "c2", Code: 486, Reason: "Busy Here", Final: true})
	if got := b.String(); got != "03:04:05 c2: transfer failed (486 Busy Here)\n" {
		t.Errorf("text %q", got)
	}
}
