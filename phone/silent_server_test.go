package phone

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestRingTimeoutWithoutAnyResponse: a call to a server that never answers ends at the ring
// timeout, not after sipgo's 32 s Timer B, and as a network failure ("no response from …"),
// not as a call nobody answered (issue 11: it took 32 s and ended "487 ring timeout", exit 11).
func TestRingTimeoutWithoutAnyResponse(t *testing.T) {
	addr, _ := silentUDP(t)
	caller, _, events := runPhone(t, Config{})
	start := time.Now()
	id, err := caller.Dial("", "sip:x@"+addr, CallAudio{}, DialOptions{RingTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	end := waitCall(t, events, id, CallEnded)
	if end.Failure != FailureNetwork || !strings.Contains(end.Reason, "no response from "+addr) {
		t.Fatalf("call ended %d %q (%v), want a network failure naming %s", end.Code, end.Reason, end.Failure, addr)
	}
	if end.Code == 487 {
		t.Fatalf("call ended 487: nothing was ever cancelled")
	}
	t.Logf("ended after %v: %s", time.Since(start).Round(time.Millisecond), end.Reason) // waitCall bounds it at 10 s
}

// TestHangupBeforeAnyResponse: hanging up a call whose server has sent nothing yet ends it at
// once, by the user (nothing can be CANCELled before a provisional response, RFC 3261 9.1).
func TestHangupBeforeAnyResponse(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	caller, _, events := runPhone(t, Config{})
	id, err := caller.Dial("", "sip:x@"+pc.LocalAddr().String(), CallAudio{}, DialOptions{RingTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, _, err := pc.ReadFrom(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "INVITE ") {
		t.Fatalf("no INVITE reached the silent server: %v %q", err, buf[:n])
	}
	if err := caller.Hangup(id); err != nil {
		t.Fatal(err)
	}
	end := waitCall(t, events, id, CallEnded) // within 10 s, not Timer B's 32
	if end.By != "local" || end.Reason != "cancelled" {
		t.Fatalf("call ended %+v, want cancelled by the user", end)
	}
}
