package phone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emiago/sipgo/sip"
)

// TestSIPLogIsCutAndLimited: sipgo's records have long strings cut to their first 256 bytes
// (a character not split), and its warnings and errors go out once a minute for each message
// and source, the next saying how many were left out; a source's records never hide
// another's; debug records are not limited.
func TestSIPLogIsCutAndLimited(t *testing.T) {
	var out bytes.Buffer
	base := slog.New(limitSIPLog(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))).With("caller", "TransportLayer")
	udp, tcp := base.With("caller", "Transport<UDP>"), base.With("caller", "Transport<TCP>")
	big := "MESSAGE " + strings.Repeat("é", 30000)
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	record := func(l *slog.Logger, at time.Time, level slog.Level, msg string, args ...any) {
		r := slog.NewRecord(at, level, msg, 0)
		r.Add(args...)
		_ = l.Handler().Handle(context.Background(), r)
	}
	for i := range 500 { // 50 s of them
		record(udp, t0.Add(time.Duration(i)*100*time.Millisecond), slog.LevelError, "failed to parse", "data", big, "error", "too many header parameters")
	}
	record(udp, t0.Add(time.Second), slog.LevelError, "Server tx failed to handle request", "req", big[:300], "error", errors.New(big))
	record(tcp, t0.Add(2*time.Second), slog.LevelError, "failed to parse", "data", "short", "error", "bad CSeq")
	record(udp, t0.Add(3*time.Second), slog.LevelDebug, "failed to parse", "data", "x")
	record(udp, t0.Add(61*time.Second), slog.LevelError, "failed to parse", "data", big, "error", "too many header parameters")

	var lines []map[string]any
	for l := range strings.Lines(out.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %q", err, l)
		}
		lines = append(lines, m)
	}
	if len(lines) != 5 {
		t.Fatalf("%d lines, want 5 (the first, the other message, TCP's, the debug one, one a minute later):\n%s", len(lines), out.String())
	}
	for _, i := range []int{0, 4} {
		m := lines[i]
		data, _ := m["data"].(map[string]any)
		start, _ := data["start"].(string)
		if m["level"] != "ERROR" || m["msg"] != "failed to parse" || len(start) > sipShown+len("…") || !strings.HasPrefix(start, "MESSAGE éé") ||
			!utf8.ValidString(start) || data["bytes"] != float64(len(big)) || m["caller"] != "Transport<UDP>" {
			t.Errorf("line %d: %.300v; want the error with the first %d bytes of data, whole characters, and its size", i, m, sipShown)
		}
	}
	if _, ok := lines[0]["more_dropped_before"]; ok || lines[4]["more_dropped_before"] != float64(499) {
		t.Errorf("more_dropped_before: %v on the first, %v a minute later; want none, then 499", lines[0]["more_dropped_before"], lines[4]["more_dropped_before"])
	}
	if e, _ := lines[1]["error"].(map[string]any); lines[1]["msg"] != "Server tx failed to handle request" || e["bytes"] != float64(len(big)) ||
		len(lines[1]["req"].(map[string]any)["start"].(string)) > sipShown+len("…") {
		t.Errorf("the other message: %.300v; want it logged, its long request and error cut", lines[1])
	}
	if lines[2]["caller"] != "Transport<TCP>" || lines[2]["data"] != "short" || lines[3]["level"] != "DEBUG" {
		t.Errorf("TCP's record %v or the debug one %v hidden or changed", lines[2], lines[3])
	}
}

// TestSIPLogCutsStringers: a value that prints as a long string, as sipgo's request method
// does ("SIP request handler not found", method=…), is cut like a string.
func TestSIPLogCutsStringers(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(limitSIPLog(slog.NewJSONHandler(&out, nil)))
	log.Warn("SIP request handler not found", "method", sip.RequestMethod(strings.Repeat("X", 12000)))
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	method, _ := m["method"].(map[string]any)
	if start, _ := method["start"].(string); len(out.Bytes()) > 1024 || len(start) > sipShown+len("…") || method["bytes"] != float64(12000) {
		t.Fatalf("a 12 KB method logged as %d bytes: %.300s", out.Len(), out.String())
	}
}
