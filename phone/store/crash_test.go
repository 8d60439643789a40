package store

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// crashChildEnv, when set, turns the test binary into the crash test's
// child: it writes messages into the database the variable names.
const crashChildEnv = "STORE_CRASH_CHILD"

// The child's loop is bounded so that a parent that fails to kill it does
// not leave it running.
const (
	crashChildMax     = 20000
	crashChildTimeout = 30 * time.Second
	// The parent kills after crashAcks plus up to crashAcks more
	// acknowledgements, so that across runs the kill lands at different
	// points of the WAL's checkpoint cycle (every few hundred messages).
	crashAcks = 300
)

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		os.Exit(crashChild(path))
	}
	os.Exit(m.Run())
}

func crashText(i int) string { return fmt.Sprintf("message %d héllo ✓ 🙂", i) }

// crashChild stores messages as fast as it can and prints "id seq" right
// after each AddMessage returns: the point at which the phone would send
// 200 OK. Printing goes straight to the pipe (os.Stdout is unbuffered), so
// whatever the parent reads was acknowledged.
func crashChild(path string) int {
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	ctx := context.Background()
	deadline := time.Now().Add(crashChildTimeout)
	for i := 0; i < crashChildMax && time.Now().Before(deadline); i++ {
		m := incoming("sip:crash@example.com", crashText(i), time.Now())
		m.SIPCallID, m.CSeq = "crash", uint32(i)
		id, err := s.AddMessage(ctx, m)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return 2
		}
		fmt.Printf("%d %d\n", id, i)
	}
	return 3 // ran out without being killed
}

// TestCrashKeepsAcknowledgedMessages kills a writer with SIGKILL in the
// middle of a stream of inserts and checks that the file is intact and that
// every message it acknowledged is there.
func TestCrashKeepsAcknowledgedMessages(t *testing.T) {
	path := tempDB(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()

	acked := map[int64]int{} // id -> sequence number
	r := bufio.NewReader(out)
	readAck := func() bool {
		line, err := r.ReadString('\n')
		if err != nil {
			// io.EOF; a partial line without '\n' was never fully printed.
			return false
		}
		var id int64
		var seq int
		if _, err := fmt.Sscanf(line, "%d %d\n", &id, &seq); err != nil {
			t.Fatalf("child printed %q: %v", line, err)
		}
		acked[id] = seq
		return true
	}
	killAt := crashAcks + rand.IntN(crashAcks)
	for len(acked) < killAt {
		if !readAck() {
			cmd.Wait()
			t.Fatalf("child stopped after %d acknowledgements: %s", len(acked), stderr.String())
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	// Lines already in the pipe were printed, hence acknowledged, before
	// the kill; they must be stored as well.
	for readAck() {
	}
	io.Copy(io.Discard, out)
	err = cmd.Wait()
	killed = true
	if cmd.ProcessState.Success() || cmd.ProcessState.ExitCode() == 3 {
		t.Fatalf("child was not killed mid-stream: %v, %s", err, stderr.String())
	}
	t.Logf("child killed after %d acknowledged messages (%v)", len(acked), err)

	s := openFile(t, path)
	var check string
	if err := s.r.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	msgs, err := s.Messages(context.Background(), Query{Limit: crashChildMax})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]Message{}
	for _, m := range msgs {
		stored[m.ID] = m
	}
	for id, seq := range acked {
		m, ok := stored[id]
		switch {
		case !ok:
			t.Errorf("acknowledged message %d (seq %d) lost", id, seq)
		case m.Text != crashText(seq) || m.CSeq != uint32(seq):
			t.Errorf("message %d = %q cseq %d, want %q cseq %d", id, m.Text, m.CSeq, crashText(seq), seq)
		}
	}
	t.Logf("%d messages stored, %d acknowledged", len(stored), len(acked))
	// Commits are in order and whole: at most the one message in flight at
	// the kill is stored without an acknowledgement, and the stored ones
	// are exactly the first len(stored) of the sequence (CSeq is unique by
	// the dedupe index, so "all below len" means "no gaps").
	if len(stored) > len(acked)+1 {
		t.Errorf("%d messages stored but only %d acknowledged", len(stored), len(acked))
	}
	for _, m := range stored {
		if int(m.CSeq) >= len(stored) {
			t.Errorf("message seq %d stored, but only %d messages: a gap", m.CSeq, len(stored))
		}
	}
}
