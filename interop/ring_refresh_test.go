package interop

import (
	"os"
	"path/filepath"
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
	d, cmd, dir := answerForSippUAC(t, "sipp_uac_rings_long.xml", 90*time.Second, "--auto=100s")
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
	trace, _ := os.ReadFile(filepath.Join(dir, "msg.log"))
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
