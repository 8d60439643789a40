package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUnparsedMessagesAreLimited: sipgo's record of a message it cannot parse (Error, the whole
// message as "data") becomes one warning a minute with the first 256 bytes, the next one
// saying how many were left out; other records, and the handlers With makes, are unchanged.
func TestUnparsedMessagesAreLimited(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(limitUnparsed(slog.NewJSONHandler(&out, nil))).With("caller", "Transport<UDP>")
	big := "INVITE " + strings.Repeat("x", 60000)
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	record := func(at time.Time, msg string) {
		r := slog.NewRecord(at, slog.LevelError, msg, 0)
		r.AddAttrs(slog.String("data", big), slog.String("error", "too many header parameters"))
		_ = log.Handler().Handle(context.Background(), r)
	}
	for i := range 500 {
		record(t0.Add(time.Duration(i)*100*time.Millisecond), unparsedMsg) // 50 s of them
	}
	record(t0.Add(61*time.Second), unparsedMsg)
	record(t0.Add(62*time.Second), "something else")

	var lines []map[string]any
	for l := range strings.Lines(out.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %q", err, l)
		}
		lines = append(lines, m)
	}
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3 (the first, one a minute later, the other record):\n%s", len(lines), out.String())
	}
	for i, m := range lines[:2] {
		data, _ := m["data"].(string)
		if m["level"] != "WARN" || len(data) > unparsedShown+len("…") || !strings.HasPrefix(data, "INVITE xxx") ||
			m["bytes"] != float64(len(big)) || m["caller"] != "Transport<UDP>" || m["error"] != "too many header parameters" {
			t.Errorf("line %d: %v; want a warning with the first %d bytes, their count, the caller and the error", i, m, unparsedShown)
		}
	}
	if _, ok := lines[0]["more_dropped_before"]; ok {
		t.Errorf("the first line says some were dropped before it: %v", lines[0])
	}
	if lines[1]["more_dropped_before"] != float64(499) {
		t.Errorf("the second line: %v; want more_dropped_before 499", lines[1])
	}
	if lines[2]["msg"] != "something else" || lines[2]["level"] != "ERROR" || lines[2]["data"] != big {
		t.Errorf("another record was changed: %.200v", lines[2])
	}
}

// TestUnparsedFloodLeavesTheLogSmall: 300 datagrams that sipgo cannot parse, each 20 KB, sent
// to `dialtone answer` with --log-file, leave one warning of a few hundred bytes in the log,
// and the phone still answers. Before, each was logged whole: 6 MB.
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
		n, err := conn.Read(buf)
		if err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200 ") {
			t.Fatalf("OPTIONS after %d of them: %q, %v; want 200", i+1, buf[:n], err)
		}
	}
	cancel()
	<-done
	done <- 0 // for the deferred wait
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if c := strings.Count(string(log), "does not parse"); c != 1 || len(log) > 8192 {
		t.Fatalf("the log is %d bytes with %d warnings of messages that do not parse; want one, under 8 KB:\n%.2000s", len(log), c, log)
	}
}
