package main

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestRecordingCutShortIsSaid: `call echo --record /dev/full` (every write fails: no space
// left) still completes the call, and stderr says the recording failed instead of nothing.
func TestRecordingCutShortIsSaid(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/dev/full is Linux's")
	}
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skipf("no /dev/full here: %v", err)
	}
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	code, _, errOut := runArgs(t, "call", "echo", "--audio", "null", "--record", "/dev/full", "--duration", "300ms", "--config", "/dev/null")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "call audio:") || !strings.Contains(errOut, "/dev/full") {
		t.Fatalf("stderr does not say the recording failed:\n%s", errOut)
	}
}
