package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone"
)

// TestPrinterMediaFields: the answered event carries the codec's rate and whether SRTP
// protects the call (in JSON and in the human line), and stats carry SRTP's refusals only
// when there were some.
func TestPrinterMediaFields(t *testing.T) {
	now := time.Date(2026, 12, 5, 16, 0, 0, 0, time.UTC)
	secure := phone.CallStatus{Time: now, ID: "c1", State: phone.CallAnswered, Codec: "opus", CodecRate: 48000, SRTP: "AEAD_AES_256_GCM", Answered: now}
	plain := phone.CallStatus{Time: now, ID: "c2", State: phone.CallAnswered, Codec: "PCMU", CodecRate: 8000, Answered: now}
	stats := phone.MediaStats{Time: now, CallID: "c1", Stats: phone.StreamStats{Dropped: 7, SRTPAuthFailed: 5, SRTPReplayed: 2}}
	quiet := phone.MediaStats{Time: now, CallID: "c2", Stats: phone.StreamStats{PacketsReceived: 10}}

	var out bytes.Buffer
	p := &printer{w: &out, json: true}
	for _, ev := range []phone.Event{secure, plain, stats, quiet} {
		p.event(ev)
	}
	got := jsonLines(t, out.String())
	if len(got) != 4 {
		t.Fatalf("%d lines, want 4:\n%s", len(got), out.String())
	}
	if got[0]["rate"] != 48000.0 || got[0]["encrypted"] != true || got[0]["srtp"] != "AEAD_AES_256_GCM" {
		t.Errorf("encrypted answered event %v", got[0])
	}
	if got[1]["rate"] != 8000.0 || got[1]["encrypted"] != false || got[1]["srtp"] != nil {
		t.Errorf("plain answered event %v", got[1])
	}
	if got[2]["srtp_auth_failed"] != 5.0 || got[2]["srtp_replayed"] != 2.0 {
		t.Errorf("stats with SRTP refusals %v", got[2])
	}
	if _, ok := got[3]["srtp_auth_failed"]; ok {
		t.Errorf("stats without SRTP refusals name them: %v", got[3])
	}

	out.Reset()
	(&printer{w: &out}).event(secure)
	if want := "answered (opus 48 kHz, SRTP AEAD_AES_256_GCM)"; !strings.Contains(out.String(), want) {
		t.Errorf("human line %q lacks %q", out.String(), want)
	}
}

// jsonLines decodes the printer's NDJSON output, one object per line.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var got []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		got = append(got, r)
	}
	return got
}
