package phone

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// inEarlyDialog sends to addr a request of method in the early dialog callID, From tag remote
// (the callee's), To tag local (ours), with body as SDP when given, and returns the answer.
func inEarlyDialog(t *testing.T, addr string, method sip.RequestMethod, callID, local, remote string, cseq uint32, body []byte) *sip.Response {
	t.Helper()
	req := peerRequest(method, addr, "callee", remote, "caller", local, callID, cseq)
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "callee", Host: "127.0.0.1", Port: 9}})
	if body != nil {
		ct := sip.ContentTypeHeader("application/sdp")
		req.AppendHeader(&ct)
		req.SetBody(body)
	}
	return doRequest(t, testClient(t), req)
}

// TestUpdateInEarlyDialog: while a call we placed rings, an UPDATE in its early dialog without
// SDP gets 200 with the INVITE's Contact, one with an offer 491, one from a fork whose 180 we
// have not had 200; one with another To tag than ours, or sent after the call ended, 481. The
// call rings on and is answered as usual. Before, every one got 481, on which PJSIP (Asterisk)
// ends the dialog.
func TestUpdateInEarlyDialog(t *testing.T) {
	r := dialRinging(t)
	caller, callee, callerAddr, callerEv, out, in, c, early := r.caller, r.callee, r.callerAddr, r.callerEv, r.out, r.in, r.c, r.early
	res := inEarlyDialog(t, callerAddr, sip.UPDATE, early.callID, early.local, early.remote[0], 10, nil)
	if res.StatusCode != 200 || res.Contact() == nil || res.Contact().Address.Host != early.contact.Host ||
		res.Contact().Address.Port != early.contact.Port {
		t.Fatalf("UPDATE without SDP answered %d %s, Contact %v; want 200 with %s", res.StatusCode, res.Reason, res.Contact(), early.contact.String())
	}
	offer := []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
	if res := inEarlyDialog(t, callerAddr, sip.UPDATE, early.callID, early.local, early.remote[0], 11, offer); res.StatusCode != 491 {
		t.Fatalf("UPDATE with an offer answered %d %s, want 491", res.StatusCode, res.Reason)
	}
	// A fork whose 180 we have not had (handled after the UPDATE, or lost): 200, but no early
	// dialog of ours to be picked up.
	if res := inEarlyDialog(t, callerAddr, sip.UPDATE, early.callID, early.local, "unheardfork", 12, nil); res.StatusCode != 200 {
		t.Fatalf("UPDATE from a fork whose 180 we have not had: %d %s, want 200", res.StatusCode, res.Reason)
	}
	c.mu.Lock()
	forks := len(c.early.remote)
	c.mu.Unlock()
	if forks != 1 {
		t.Fatalf("%d early dialogs after an UPDATE from an unheard fork, want 1", forks)
	}
	if res := inEarlyDialog(t, callerAddr, sip.UPDATE, early.callID, "notourtag", early.remote[0], 12, nil); res.StatusCode != 481 {
		t.Fatalf("UPDATE with another To tag than ours: %d %s, want 481", res.StatusCode, res.Reason)
	}
	if c.ended() {
		t.Fatal("the call ended after the UPDATEs")
	}
	if err := callee.Answer(in, CallAudio{}); err != nil {
		t.Fatal(err)
	}
	waitCall(t, callerEv, out, CallAnswered)
	if err := caller.Hangup(out); err != nil {
		t.Fatal(err)
	}
	waitCall(t, callerEv, out, CallEnded)
	if res := inEarlyDialog(t, callerAddr, sip.UPDATE, early.callID, early.local, early.remote[0], 13, nil); res.StatusCode != 481 {
		t.Fatalf("UPDATE after the call ended: %d %s, want 481", res.StatusCode, res.Reason)
	}
}
