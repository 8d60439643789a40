package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// rssFileKB is this process's resident file-backed memory (/proc/self/status RssFile).
func rssFileKB(t *testing.T) int {
	t.Helper()
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.Fields(v)[0])
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// TestTrimStartupPagesUnmapsAndKeepsWorking: trimming drops file pages from the process
// (the test binary has touched far more of itself than the few pages needed afterwards), and
// the process goes on running code and reading data from the trimmed mappings.
func TestTrimStartupPagesUnmapsAndKeepsWorking(t *testing.T) {
	before := rssFileKB(t)
	trimStartupPages()
	after := rssFileKB(t)
	if after >= before {
		t.Fatalf("RssFile %d kB before trimming, %d kB after: nothing was unmapped", before, after)
	}
	// Code and read-only data come back from the page cache: exercise both.
	if got := versionText(); !strings.Contains(got, "dialtone") {
		t.Fatalf("versionText after trimming: %q", got)
	}
	if s := fmt.Sprintf("%x %v", 255, []string{"ok"}); s != "ff [ok]" {
		t.Fatalf("fmt after trimming: %q", s)
	}
	t.Logf("RssFile %d kB -> %d kB", before, after)
}
