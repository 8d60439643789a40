package phone

import (
	"net"
	"testing"
	"time"
)

// TestHangupDuringSetUp: a call hung up while it is still being set up (here STUN to a server
// that never answers, 2.5 s) ends at once, as cancelled by us; set-up ran to its end first.
func TestHangupDuringSetUp(t *testing.T) {
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	p, _, ev := runPhone(t, Config{KeepAlive: -1, STUNServer: silent.LocalAddr().String()})
	id, err := p.Dial("", "sip:bob@127.0.0.1:9", CallAudio{}, DialOptions{RingTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // in STUN by now
	start := time.Now()
	if err := p.Hangup(id); err != nil {
		t.Fatal(err)
	}
	end := waitCall(t, ev, id, CallEnded)
	if took := time.Since(start); took > time.Second {
		t.Errorf("the call ended %v after the hang-up: set-up went on", took)
	}
	if end.By != "local" || end.Failure == FailureNetwork {
		t.Errorf("ended %+v, want cancelled by us", end)
	}
}
