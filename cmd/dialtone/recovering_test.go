package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone"
)

// A registration whose TCP/TLS connection died is printed as "recovering" with the reason.
func TestPrinterRecovering(t *testing.T) {
	s := phone.AccountStatus{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Account: "work", AOR: "sip:alice@example.com",
		State: phone.Recovering, Reason: "the connection to the registrar was closed"}
	var b bytes.Buffer
	(&printer{w: &b, json: true}).registration(s)
	var r map[string]any
	if err := json.Unmarshal(b.Bytes(), &r); err != nil {
		t.Fatalf("%v: %q", err, b.String())
	}
	if r["event"] != "recovering" || r["account"] != "work" || r["reason"] != s.Reason || r["aor"] != s.AOR {
		t.Errorf("json %v", r)
	}
	b.Reset()
	(&printer{w: &b}).registration(s)
	if got := b.String(); !strings.Contains(got, "03:04:05 work: connection lost (the connection to the registrar was closed); registering sip:alice@example.com again") {
		t.Errorf("human %q", got)
	}
}

// A connection that died soon after its REGISTER is replaced after a backoff: the event says
// when (retry_in), as registration_failed does.
func TestPrinterRecoveringAfterABackoff(t *testing.T) {
	s := phone.AccountStatus{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Account: "work", AOR: "sip:alice@example.com",
		State: phone.Recovering, Reason: "the connection to the registrar was closed", RetryIn: 2500 * time.Millisecond}
	var b bytes.Buffer
	(&printer{w: &b, json: true}).registration(s)
	var r map[string]any
	if err := json.Unmarshal(b.Bytes(), &r); err != nil {
		t.Fatalf("%v: %q", err, b.String())
	}
	if r["event"] != "recovering" || r["retry_in"] != 2.5 {
		t.Errorf("json %v", r)
	}
	b.Reset()
	(&printer{w: &b}).registration(s)
	if got := b.String(); !strings.Contains(got, "registering sip:alice@example.com again in 2.5s") {
		t.Errorf("human %q", got)
	}
}
