package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
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

// TestUnparsedFloodLeavesTheLogSmall: 300 datagrams of 20 KB that sipgo cannot use, sent to
// `dialtone answer` with --log-file, leave a line or two of a few hundred bytes in the log,
// and the phone still answers. Half do not parse (a CSeq with no number); half parse but
// have no Via, which sipgo's transactions refuse, logging the 20 KB Request-URI twice. Before,
// each was logged whole: 6 MB.
func TestUnparsedFloodLeavesTheLogSmall(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", dir)
	t.Setenv("XDG_CONFIG_HOME", dir)
	logFile := filepath.Join(dir, "dialtone.log")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		var errb bytes.Buffer
		code := run(ctx, []string{"answer", "--auto", "--audio", "null", "--listen", "127.0.0.1:0", "--config", "/dev/null",
			"--json", "--log-file", logFile}, strings.NewReader(""), pw, &errb)
		pw.Close()
		done <- code
	}()
	defer func() { cancel(); <-done }()
	lines := bufio.NewScanner(pr)
	var addr string
	for addr == "" && lines.Scan() {
		var ev struct{ Event, Addr string }
		if json.Unmarshal(lines.Bytes(), &ev) == nil && ev.Event == "listening" {
			addr = ev.Addr
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if addr == "" {
		t.Fatal("no listening event")
	}
	to, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pad := "X-Pad: " + strings.Repeat("y", 20000) + "\r\n"
	buf := make([]byte, 4096)
	for i := range 300 {
		// A CSeq with no number: sipgo cannot parse it.
		bad := fmt.Sprintf("MESSAGE sip:a@%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-bad%d\r\n"+
			"From: <sip:b@127.0.0.1>;tag=1\r\nTo: <sip:a@%s>\r\nCall-ID: bad%d\r\nCSeq: x MESSAGE\r\n%sContent-Length: 0\r\n\r\n",
			addr, i, addr, i, pad)
		if i%2 == 1 { // no Via, and a Request-URI of 20 KB
			bad = fmt.Sprintf("MESSAGE sip:a%s@%s SIP/2.0\r\nFrom: <sip:b@127.0.0.1>;tag=1\r\nTo: <sip:a@%s>\r\nCall-ID: bad%d\r\n"+
				"CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n", strings.Repeat("y", 20000), addr, addr, i)
		}
		if _, err := conn.WriteToUDP([]byte(bad), to); err != nil {
			t.Fatal(err)
		}
		if i%5 != 4 {
			continue
		}
		// The phone reads its socket in order: the answer to this one comes after the five
		// before it were read, and no more than five wait in its socket's buffer.
		good := fmt.Sprintf("OPTIONS sip:a@%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-good%d\r\n"+
			"From: <sip:b@127.0.0.1>;tag=1\r\nTo: <sip:a@%s>\r\nCall-ID: good%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", addr, i, addr, i)
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.WriteToUDP([]byte(good), to); err != nil {
			t.Fatal(err)
		}
		for { // past the 400s to those without Via
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("OPTIONS after %d of them: %v; want 200", i+1, err)
			}
			if res := string(buf[:n]); strings.Contains(res, "Call-ID: good") {
				if !strings.HasPrefix(res, "SIP/2.0 200 ") {
					t.Fatalf("OPTIONS after %d of them: %q; want 200", i+1, res)
				}
				break
			}
		}
	}
	cancel()
	<-done
	done <- 0 // for the deferred wait
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	parse, tx := strings.Count(string(log), `msg="failed to parse"`), strings.Count(string(log), `msg="Server tx failed to handle request"`)
	if parse != 1 || tx > 1 || len(log) > 8192 {
		t.Fatalf("the log is %d bytes with %d lines of messages that do not parse and %d of requests refused; want one and at most one, under 8 KB:\n%.3000s",
			len(log), parse, tx, log)
	}
}
