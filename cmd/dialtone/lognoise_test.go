package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

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
