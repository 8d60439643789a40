package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone"
)

// Stats events carry the core's live MOS; hangup events the call's quality summary; calls
// without either print as before.
func TestPrinterQuality(t *testing.T) {
	var out bytes.Buffer
	p := &printer{w: &out, json: true}
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	p.stats(phone.MediaStats{Time: now, CallID: "c1", Stats: phone.StreamStats{PacketsReceived: 250, MOS: 4.36, R: 90.7}})
	p.stats(phone.MediaStats{Time: now, CallID: "c2"}) // nothing rated yet
	q := &phone.CallQuality{Codec: "opus", MOSMin: 3.68, MOSAvg: 4.1, LossPct: 2.5, JitterMax: 12 * time.Millisecond, RTT: 40 * time.Millisecond}
	p.call(phone.CallStatus{Time: now, ID: "c1", State: phone.CallEnded, Started: now, Answered: now, Ended: now, Quality: q})
	p.call(phone.CallStatus{Time: now, ID: "c3", State: phone.CallEnded, Started: now, Ended: now, Code: 486})
	lines := jsonLines(t, out.String())
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4:\n%s", len(lines), out.String())
	}
	if lines[0]["mos"] != 4.36 {
		t.Errorf("stats line %v: want mos 4.36", lines[0])
	}
	if _, ok := lines[1]["mos"]; ok {
		t.Errorf("stats line %v: mos before anything was rated", lines[1])
	}
	want := map[string]any{"mos_min": 3.68, "mos_avg": 4.1, "loss_pct": 2.5, "jitter_max_ms": 12.0, "rtt_ms": 40.0, "codec": "opus"}
	for k, v := range want {
		if lines[2][k] != v {
			t.Errorf("hangup line: %s = %v, want %v (%v)", k, lines[2][k], v, lines[2])
		}
	}
	for k := range want {
		if _, ok := lines[3][k]; ok {
			t.Errorf("unanswered call's hangup line has %s: %v", k, lines[3])
		}
	}
	out.Reset()
	p.json = false
	p.stats(phone.MediaStats{Time: now, CallID: "c1", Stats: phone.StreamStats{MOS: 4.36}})
	p.call(phone.CallStatus{Time: now, ID: "c1", State: phone.CallEnded, Quality: q})
	if s := out.String(); !strings.Contains(s, "mos 4.36") || !strings.Contains(s, "MOS 4.10 (min 3.68), loss 2.5%, jitter ≤ 12ms, rtt 40ms") {
		t.Errorf("human lines:\n%s", s)
	}
}
