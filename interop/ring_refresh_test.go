package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRingingIsRefreshedEveryMinute: sipp calls `dialtone answer --auto=100s`, which rings, and
// lets it ring 65 s (testdata/sipp_uac_rings_long.xml): dialtone sends its 180 again
// every minute (RFC 3261 §13.3.1.1), so that a lost 180 is made good and a proxy that restarts
// its INVITE timer on each response (Kamailio's fr_inv_timer, 120 s) does not cancel a call that
// still rings. sipp then CANCELs; dialtone reports the caller's cancel. It sent one 180 only.
func TestRingingIsRefreshedEveryMinute(t *testing.T) {
	t.Parallel()
	bin := sippPath(t)
	sf, err := filepath.Abs("testdata/sipp_uac_rings_long.xml")
	if err != nil {
		t.Fatal(err)
	}
	d := startDialtone(t, nil, "answer", "--listen", "127.0.0.1:0", "--auto=100s", "--json", "--count", "1", "--audio", "null")
	addr := d.waitEvent("listening", 10*time.Second).str("addr")
	dir := t.TempDir()
	cmd := exec.Command(bin, "-sf", sf, "-t", "u1", "-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freeEvenUDPPort(t)), "-m", "1", "-nostdin", "-timeout", "90s",
		"-trace_msg", addr)
	cmd.Dir = dir
	out := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-out })
	go func() { out <- cmd.Wait() }()
	d.waitEvent("incoming", 10*time.Second)
	select {
	case err := <-out:
		out <- err
		if err != nil {
			t.Fatalf("sipp: %v\n%s", err, d.transcript())
		}
	case <-time.After(100 * time.Second):
		t.Fatalf("sipp still running after 100 s\n%s", d.transcript())
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "*_messages.log"))
	var trace []byte
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		trace = append(trace, b...)
	}
	// One 180 at once and one a minute later, within the 65 s sipp let it ring (a third if
	// sipp sent its INVITE again on a slow machine, and got the 180 again for it).
	if n := strings.Count(string(trace), "SIP/2.0 180 Ringing"); n < 2 {
		t.Fatalf("sipp received %d 180s in 65 s of ringing, want 2\n%s", n, trace)
	}
	end := d.waitEvent("hangup", 10*time.Second)
	if end.str("by") != "remote" {
		t.Errorf("hangup %v, want the caller's cancel", end)
	}
}
