package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// startServer runs a server whose handler answers "calls" and fails everything else with
// "no such call", on a socket in a fresh directory.
func startServer(t *testing.T, queue int) *Server {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run", "control.sock")
	h := func(ctx context.Context, c Command) Reply {
		if c.Cmd == "calls" {
			r := OK(c, time.Now())
			r.Calls = &[]CallInfo{}
			return r
		}
		return Fail(c, time.Now(), fmt.Errorf("call %s: no such call", c.Call))
	}
	s, err := Listen(path, h, nil, queue)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	return s
}

func dialT(t *testing.T, path string) (net.Conn, *bufio.Scanner) {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewScanner(c)
}

func readReply(t *testing.T, sc *bufio.Scanner) Reply {
	t.Helper()
	for sc.Scan() {
		if r, err := ParseReply(sc.Bytes()); err == nil {
			return r
		}
	}
	t.Fatalf("no reply: %v", sc.Err())
	return Reply{}
}

// TestServerBadInput: garbage, unknown commands, overlong lines and a call that does not
// exist each get an error reply on the same connection, which keeps working.
func TestServerBadInput(t *testing.T) {
	s := startServer(t, 0)
	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("socket mode %v, want a 0600 socket", fi.Mode())
	}
	if di, _ := os.Stat(filepath.Dir(s.Path())); di.Mode().Perm() != 0o700 {
		t.Errorf("socket directory mode %v, want 0700", di.Mode().Perm())
	}
	conn, sc := dialT(t, s.Path())
	sc.Buffer(make([]byte, 64*1024), 64*1024)
	send := func(line string) {
		if _, err := conn.Write([]byte(line + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct{ line, want string }{
		{"hello there", "not a command object"},
		{"\x00\x01\x02{", "not a command object"},
		{`{"cmd":"launch","id":1}`, `unknown command "launch"`},
		{strings.Repeat("x", MaxLine+10), "line longer than"},
		{`{"cmd":"hangup","call":"c99","id":"h"}`, "call c99: no such call"},
	}
	for _, tc := range cases {
		send(tc.line)
		r := readReply(t, sc)
		if r.OK || !strings.Contains(r.Error, tc.want) {
			t.Errorf("%.40q: reply %+v, want error %q", tc.line, r, tc.want)
		}
	}
	send(`{"cmd":"calls","id":"after"}`)
	if r := readReply(t, sc); !r.OK || string(r.ID) != `"after"` || r.Calls == nil {
		t.Errorf("the connection stopped working after bad input: %+v", r)
	}
}

// TestServerSlowClient: a client that never reads is disconnected once its queue is full,
// while Broadcast never blocks and a reading client gets every line.
func TestServerSlowClient(t *testing.T) {
	s := startServer(t, 64)
	slow, _ := dialT(t, s.Path())
	_, fast := dialT(t, s.Path())
	eventually(t, func() bool { return s.Clients() == 2 })
	got := make(chan int, 1)
	const n = 20000
	var read atomic.Int64 // lines the fast client has read so far
	go func() {
		count := 0
		for count < n && fast.Scan() {
			var m map[string]any
			if json.Unmarshal(fast.Bytes(), &m) == nil && m["event"] == "stats" {
				count++
				read.Store(int64(count))
			}
		}
		got <- count
	}()
	line := []byte(`{"event":"stats","time":"2026-01-01T00:00:00Z","call_id":"c1","padding":"` + strings.Repeat("p", 200) + `"}` + "\n")
	start := time.Now()
	for i := 0; i < n; i++ {
		s.Broadcast(line)
		if i%16 == 15 {
			time.Sleep(time.Millisecond) // a phone's pace, not a flood the fast reader cannot follow
			// On a loaded machine (or under -race) the reader may still fall behind: let it
			// catch up to within half its queue, so only the client that never reads is dropped.
			for wait := time.Now().Add(10 * time.Second); int64(i)-read.Load() > 32 && time.Now().Before(wait); {
				time.Sleep(time.Millisecond)
			}
		}
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Broadcast took %v for %d lines: it waited for a client", d, n)
	}
	t.Logf("clients after the flood: %d", s.Clients())
	eventually(t, func() bool { return s.Clients() == 1 })
	select {
	case c := <-got:
		if c != n {
			t.Errorf("the reading client got %d of %d lines", c, n)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the reading client did not get every line")
	}
	// The slow client, reading at last, finds the end of the stream: its connection was closed.
	_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	sc := bufio.NewScanner(slow)
	sc.Buffer(make([]byte, 64*1024), 64*1024)
	lines, reason := 0, ""
	for sc.Scan() {
		lines++
		var m map[string]string
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["event"] == "disconnected" {
			reason = m["reason"]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("slow client: %v after %d lines (want EOF)", err, lines)
	}
	if lines >= n {
		t.Errorf("the slow client got all %d lines: it was never disconnected", lines)
	}
	if reason != "" && !strings.Contains(reason, "too slow") {
		t.Errorf("disconnect reason %q", reason)
	}
	t.Logf("slow client read %d lines before EOF; goodbye reason %q", lines, reason)
}

// TestListenStaleAndBusy: a stale socket file is replaced; a live server's socket is not.
func TestListenStaleAndBusy(t *testing.T) {
	s := startServer(t, 0)
	if _, err := Listen(s.Path(), nil, nil, 0); err == nil || !strings.Contains(err.Error(), "another dialtone serve") {
		t.Errorf("second Listen on a live socket: %v", err)
	}
	stale := filepath.Join(t.TempDir(), "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	s2, err := Listen(stale, nil, nil, 0)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	s2.ln.Close()

	// A file that is not a socket (a mistyped --control naming the config) is never removed.
	conf := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(conf, []byte("[sip]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(conf, nil, nil, 0); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("Listen on a regular file: %v", err)
	}
	if b, err := os.ReadFile(conf); err != nil || string(b) != "[sip]\n" {
		t.Errorf("the file at the path: %q, %v; want it untouched", b, err)
	}
}

// TestDoSkipsEvents: the client helper finds its reply among events and reports a server
// that is not there as ErrUnreachable.
func TestDoSkipsEvents(t *testing.T) {
	s := startServer(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stop := make(chan struct{})
	defer close(stop)
	go func() { // events flow while the command runs
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				s.Broadcast([]byte(`{"event":"stats","time":"x"}` + "\n"))
			}
		}
	}()
	r, err := Do(ctx, s.Path(), Command{Cmd: "calls"})
	if err != nil || !r.OK || r.Reply != "calls" {
		t.Fatalf("calls: %+v %v", r, err)
	}
	r, err = Do(ctx, s.Path(), Command{Cmd: "hangup", Call: "c5"})
	if err != nil || r.OK || !strings.Contains(r.Error, "no such call") {
		t.Fatalf("hangup c5: %+v %v", r, err)
	}
	if _, err := Do(ctx, filepath.Join(t.TempDir(), "none.sock"), Command{Cmd: "calls"}); !errors.Is(err, ErrUnreachable) {
		t.Errorf("no server: %v, want ErrUnreachable", err)
	}
}

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("condition not met within 10 s")
}

// TestDoTakesTheReplyToALineTooLong: a command the server cannot read (longer than MaxLine) gets
// an error reply without an id; the client takes it as its answer at once instead of waiting
// out its timeout for a reply that never comes. A message's text of 4096 '<' (six bytes each
// in JSON's escapes) fits.
func TestDoTakesTheReplyToALineTooLong(t *testing.T) {
	s := startServer(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	rep, err := Do(ctx, s.Path(), Command{ID: json.RawMessage(`7`), Cmd: "message", Target: "sip:x@y", Text: strings.Repeat("x", MaxLine)})
	if err != nil || rep.OK || !strings.Contains(rep.Error, "longer") || time.Since(start) > 10*time.Second {
		t.Fatalf("an over-long command: %+v, %v after %v; want its error reply at once", rep, err, time.Since(start))
	}
	rep, err = Do(ctx, s.Path(), Command{ID: json.RawMessage(`8`), Cmd: "calls", Text: strings.Repeat("<", 4096)})
	if err != nil || !rep.OK {
		t.Fatalf("a command with 4096 escaped characters: %+v, %v", rep, err)
	}
}
