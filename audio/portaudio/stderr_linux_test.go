//go:build cgo && !noportaudio

package portaudio

import (
	"bytes"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func TestQuietSendsStderrToLog(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	err := quiet(log, "test", func() error {
		// What a C library does: write(2, ...), not os.Stderr.
		syscall.Write(2, []byte("ALSA lib pcm.c: noise\n\nCannot connect to server socket\n"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := logged.String()
	for _, want := range []string{`during=test text="ALSA lib pcm.c: noise"`, `text="Cannot connect to server socket"`} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %s:\n%s", want, got)
		}
	}
	if strings.Count(got, "\n") != 2 {
		t.Errorf("want 2 log lines (blank line skipped), got:\n%s", got)
	}
	// fd 2 must be restored (the pipe's write end is closed by now).
	if _, err := syscall.Write(2, nil); err != nil {
		t.Errorf("fd 2 after quiet: %v", err)
	}
}

// TestQuietKeepsCrashReports: a Go fatal error while quiet has fd 2 (one that runs no
// deferred calls, so fd 2 is never given back: checkptr's in PortAudio's binding was one) still
// reaches the real stderr. The test runs itself as a child that fails so inside quiet, and
// reads the child's stderr.
func TestQuietKeepsCrashReports(t *testing.T) {
	if os.Getenv("DIALTONE_QUIET_CRASH") == "1" {
		_ = quiet(slog.New(slog.DiscardHandler), "crash", func() error {
			var mu sync.Mutex
			mu.Unlock() // fatal error: sync: unlock of unlocked mutex
			return nil
		})
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestQuietKeepsCrashReports$")
	cmd.Env = append(os.Environ(), "DIALTONE_QUIET_CRASH=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		t.Fatal("the child did not crash")
	}
	// The runtime's header line goes to fd 2 alone; the traceback, which says where, goes to
	// the crash output too.
	if got := stderr.String(); !strings.Contains(got, "goroutine ") || !strings.Contains(got, "portaudio.quiet(") {
		t.Errorf("the crash report did not reach stderr (%v):\n%s", err, got)
	}
}
