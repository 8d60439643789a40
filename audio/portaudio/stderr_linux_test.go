//go:build cgo && !noportaudio

package portaudio

import (
	"bytes"
	"log/slog"
	"strings"
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
