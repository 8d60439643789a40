package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// runInterrupted runs the command line as if SIGINT had already come.
func runInterrupted(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return runCtx(ctx, args...)
}

// TestMessageInterruptedIsNotSent: a message interrupted before it went out exits 4, as one
// interrupted while sending does; it exited 0, which says delivered.
func TestMessageInterruptedIsNotSent(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	code, _, errOut := runInterrupted(t, "message", "sip:bob@127.0.0.1:9", "hello", "--listen", "127.0.0.1:0", "--config", "/dev/null")
	if code != exitNetwork {
		t.Fatalf("exit %d, want %d (not sent)\n%s", code, exitNetwork, errOut)
	}
}

// TestDoctorInterruptedExitsAsItsReport: doctor interrupted still writes its report, and exits
// with the code the report names, not 1 ("a bug").
func TestDoctorInterruptedExitsAsItsReport(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	t.Setenv("DIALTONE_PASSWORD", "x")
	code, out, errOut := runInterrupted(t, "doctor", "--json", "--aor", "sip:alice@127.0.0.1", "--registrar", "sip:127.0.0.1:9", "--config", "/dev/null")
	var rep struct {
		ExitCode int `json:"exit_code"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("no report (%v): exit %d\nstdout:\n%s\nstderr:\n%s", err, code, out, errOut)
	}
	if code == exitInternal || code != rep.ExitCode {
		t.Fatalf("exit %d, report's exit_code %d: want them equal, and not %d\n%s", code, rep.ExitCode, exitInternal, errOut)
	}
	if !strings.Contains(errOut, "interrupted") {
		t.Errorf("stderr does not say the report was interrupted:\n%s", errOut)
	}
}

// TestCallInterruptedBeforeItIsPlaced: `call` interrupted while the phone starts places no
// call and exits 11, as a call cancelled while it rings does; it exited 0, which says the call
// was answered and ended normally.
func TestCallInterruptedBeforeItIsPlaced(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	code, _, errOut := runInterrupted(t, "call", "sip:bob@127.0.0.1:9", "--audio", "null", "--config", "/dev/null")
	if code != exitNoAnswer || !strings.Contains(errOut, "interrupted") {
		t.Fatalf("exit %d, want %d saying it was interrupted\n%s", code, exitNoAnswer, errOut)
	}
}

// TestRegisterOnceInterruptedBeforeAnAnswer: `register --once` stopped before its registrar
// answered (here a port nothing answers on) exits 4, not 0, which says every account
// registered.
func TestRegisterOnceInterruptedBeforeAnAnswer(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	t.Setenv("DIALTONE_PASSWORD", "x")
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	args := []string{"register", "--once", "--aor", "sip:alice@127.0.0.1", "--registrar", "sip:" + silent.LocalAddr().String(), "--config", "/dev/null"}
	code, _, errOut := runInterrupted(t, args...)
	if code != exitNetwork {
		t.Fatalf("interrupted at once: exit %d, want %d\n%s", code, exitNetwork, errOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond) // the REGISTER is out, unanswered
	defer cancel()
	code, _, errOut = runCtx(ctx, args...)
	if code != exitNetwork || !strings.Contains(errOut, "interrupted") {
		t.Fatalf("interrupted while registering: exit %d, want %d saying so\n%s", code, exitNetwork, errOut)
	}
}

// TestMessageFromAPipeThatNeverClosesStopsOnCtrlC: `message TARGET -` waiting for standard
// input stops when interrupted, exits 4 (not sent) and sends nothing; it waited for the pipe
// through the first Ctrl-C.
func TestMessageFromAPipeThatNeverClosesStopsOnCtrlC(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		code, _, _ := runCtxStdin(ctx, pr, "message", "sip:bob@127.0.0.1:9", "-", "--listen", "127.0.0.1:0", "--config", "/dev/null")
		done <- code
	}()
	if _, err := pw.Write([]byte("half a line")); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitNetwork {
			t.Fatalf("exit %d, want %d (not sent)", code, exitNetwork)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("message still reads standard input after Ctrl-C")
	}
}

// TestMessageTooLongOnStdinSaysSo: a text on standard input longer than a message, cut by the
// read inside a character, was refused as "not valid UTF-8"; it is refused as too long (exit 2).
func TestMessageTooLongOnStdinSaysSo(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	long := strings.Repeat("é", 3000) + "\n" // 6000 bytes; the read stops inside an é
	code, _, stderr := runCtxStdin(context.Background(), strings.NewReader(long), "message", "sip:bob@127.0.0.1:9", "-",
		"--listen", "127.0.0.1:0", "--config", "/dev/null")
	if code != 2 || !strings.Contains(stderr, "over 4096 bytes") {
		t.Fatalf("exit %d, stderr %q; want 2 saying it is over 4096 bytes", code, stderr)
	}
}
