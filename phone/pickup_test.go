package phone

import (
	"testing"
)

// TestPickupOnlyOfOurOwnRingingCalls: a Replaces naming an early dialog is taken only for an
// outgoing call of ours (RFC 3891 §3; the interop test TestRingingCallPickedUp takes one):
// the callee's side of the same early dialog, ringing here, is not ours to give away (481),
// nor is a fork of ours that never answered (481). Both calls ring on unharmed.
func TestPickupOnlyOfOurOwnRingingCalls(t *testing.T) {
	callee, calleeAddr, calleeEv := runPhone(t, Config{})
	caller, callerAddr, callerEv := runPhone(t, Config{})
	out, err := caller.Dial("", "sip:callee@"+calleeAddr, CallAudio{}, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in := waitCall(t, calleeEv, "", CallIncoming).ID
	waitCall(t, callerEv, out, CallRinging)
	c, err := caller.lookupCall(out)
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	early := c.early
	c.mu.Unlock()
	if early.callID == "" || early.local == "" || len(early.remote) != 1 {
		t.Fatalf("the caller's early dialogs %+v: want the INVITE's and the callee's 180's tags", early)
	}
	offer := []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
	for _, tc := range []struct {
		what, to, replaces string
	}{
		{"the callee's side of the dialog", calleeAddr, early.callID + ";to-tag=" + early.remote[0] + ";from-tag=" + early.local},
		{"a fork that never answered", callerAddr, early.callID + ";to-tag=" + early.local + ";from-tag=nosuchfork"},
	} {
		res := sendRaw(t, tc.to, "INVITE", map[string]string{"Replaces": tc.replaces}, "application/sdp", offer)
		if res.StatusCode != 481 {
			t.Fatalf("%s: answered %d %s, want 481", tc.what, res.StatusCode, res.Reason)
		}
	}
	for name, p := range map[string]*Phone{"caller": caller, "callee": callee} {
		id := map[string]string{"caller": out, "callee": in}[name]
		if c, err := p.lookupCall(id); err != nil || c.ended() {
			t.Fatalf("%s's call %s ended: %v", name, id, err)
		}
	}
	if err := caller.Hangup(out); err != nil {
		t.Fatal(err)
	}
	waitCall(t, calleeEv, in, CallEnded)
}
