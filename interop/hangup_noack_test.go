package interop

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestHangupBeforeTheACK: sipp calls `dialtone answer --duration 300ms` and never sends its ACK
// (testdata/sipp_uac_no_ack.xml). dialtone's hang-up 300 ms after the answer ends the call
// then, by us, within the BYE's wait for the ACK (5 s); it waited for the 200's retransmissions
// to run out (32 s) and recorded the call as 408 "no ACK".
func TestHangupBeforeTheACK(t *testing.T) {
	t.Parallel()
	bin := sippPath(t)
	sf, err := filepath.Abs("testdata/sipp_uac_no_ack.xml")
	if err != nil {
		t.Fatal(err)
	}
	d := startDialtone(t, nil, "answer", "--listen", "127.0.0.1:0", "--auto", "--json", "--count", "1", "--audio", "null", "--duration", "300ms")
	addr := d.waitEvent("listening", 10*time.Second).str("addr")
	dir := t.TempDir()
	cmd := exec.Command(bin, "-sf", sf, "-t", "u1", "-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freeEvenUDPPort(t)), "-m", "1", "-nostdin", "-timeout", "15s", addr)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	d.waitEvent("answered", 10*time.Second)
	answered := time.Now()
	end := d.waitEvent("hangup", 15*time.Second)
	took := time.Since(answered)
	if end.str("by") != "local" || end.num("code") == 408 {
		t.Errorf("hangup %v, want by local (our hang-up), not 408 no ACK", end)
	}
	if took > 7*time.Second {
		t.Errorf("the call ended %v after the answer: the hang-up waited for the ACK's timeout", took)
	}
	t.Logf("ended %v after the answer, no ACK ever", took)
	if code, _ := d.wait(10 * time.Second); code != 0 {
		t.Fatalf("answer exit %d\n%s", code, d.transcript())
	}
}
