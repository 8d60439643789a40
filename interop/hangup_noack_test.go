package interop

import (
	"testing"
	"time"
)

// TestHangupBeforeTheACK: sipp calls `dialtone answer --duration 300ms` and never sends its ACK
// (testdata/sipp_uac_no_ack.xml). dialtone's hang-up 300 ms after the answer ends the call
// then, by us, within the BYE's wait for the ACK (5 s); it waited for the 200's retransmissions
// to run out (32 s) and recorded the call as 408 "no ACK".
func TestHangupBeforeTheACK(t *testing.T) {
	t.Parallel()
	d, cmd, _ := answerForSippUAC(t, "sipp_uac_no_ack.xml", 15*time.Second, "--auto", "--duration", "300ms")
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
