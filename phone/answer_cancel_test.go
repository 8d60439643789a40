package phone

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// A caller's CANCEL ends the STUN wait of an answer under way: the answer looked up our public
// address with the phone's context, so against a STUN server that does not answer the CANCEL
// was seen only after all four Binding requests (~3.5 s), and TURN's set-up after that.
func TestCancelEndsTheAnswersSTUNWait(t *testing.T) {
	stun, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer stun.Close()
	// The server reads and never answers; from the moment answering starts it counts what the
	// answer sends, and at the first of those tells the test to cancel.
	var counting atomic.Bool
	var requests atomic.Int32
	first := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := stun.ReadFrom(buf); err != nil {
				return
			}
			if counting.Load() && requests.Add(1) == 1 {
				first <- struct{}{}
			}
		}
	}()
	callee, calleeAddr, calleeEvents := runPhone(t, Config{STUNServer: stun.LocalAddr().String()})
	caller, _, callerEvents := runPhone(t, Config{})
	id, err := caller.Dial("", "sip:b@"+calleeAddr, CallAudio{}, DialOptions{RingTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	inID := waitCall(t, calleeEvents, "", CallIncoming).ID
	waitCall(t, callerEvents, id, CallRinging)
	counting.Store(true)
	answered := make(chan error, 1)
	go func() { answered <- callee.Answer(inID, CallAudio{}) }()
	select {
	case <-first:
	case <-time.After(10 * time.Second):
		t.Fatal("the answer sent no STUN request")
	}
	if err := caller.Hangup(id); err != nil { // ringing: a CANCEL
		t.Fatal(err)
	}
	end := waitCall(t, calleeEvents, inID, CallEnded)
	if err := <-answered; err != nil {
		t.Logf("Answer: %v", err)
	}
	// The CANCEL came at the first request; the wait for its answer (0.5 s, then another, up
	// to the 2.5 s STUN limit: three requests) ends with it. A loaded machine may let the
	// second out first.
	if n := requests.Load(); n > 2 {
		t.Errorf("the answer sent %d STUN requests though the CANCEL came at the first", n)
	}
	t.Logf("callee's call ended %+v after %d STUN requests", end, requests.Load())
}
