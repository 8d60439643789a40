package phone

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// TestPickupOnlyOfOurOwnRingingCalls: a Replaces naming an early dialog is taken only for an
// outgoing call of ours (RFC 3891 §3; the interop test TestRingingCallPickedUp takes one):
// the callee's side of the same early dialog, ringing here, is not ours to give away (481),
// nor is a fork of ours that never answered (481). Both calls ring on unharmed.
func TestPickupOnlyOfOurOwnRingingCalls(t *testing.T) {
	r := dialRinging(t)
	caller, callee, callerAddr, calleeAddr, calleeEv, out, in, early := r.caller, r.callee, r.callerAddr, r.calleeAddr, r.calleeEv, r.out, r.in, r.early
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

// ringingPair is two phones, a call from one ringing at the other.
type ringingPair struct {
	caller, callee         *Phone
	callerAddr, calleeAddr string
	callerEv, calleeEv     <-chan Event
	out, in                string       // the call's id at the caller and at the callee
	c                      *call        // the caller's
	early                  earlyDialogs // its early dialogs once the callee's 180 came
}

// dialRinging starts two phones and has the caller call the callee, which rings: the caller
// has had its 180 and knows the early dialog it made.
func dialRinging(t *testing.T) ringingPair {
	t.Helper()
	var r ringingPair
	r.callee, r.calleeAddr, r.calleeEv = runPhone(t, Config{})
	r.caller, r.callerAddr, r.callerEv = runPhone(t, Config{})
	var err error
	if r.out, err = r.caller.Dial("", "sip:callee@"+r.calleeAddr, CallAudio{}, DialOptions{}); err != nil {
		t.Fatal(err)
	}
	r.in = waitCall(t, r.calleeEv, "", CallIncoming).ID
	waitCall(t, r.callerEv, r.out, CallRinging)
	if r.c, err = r.caller.lookupCall(r.out); err != nil {
		t.Fatal(err)
	}
	r.c.mu.Lock()
	r.early = r.c.early
	r.c.mu.Unlock()
	if r.early.callID == "" || r.early.local == "" || len(r.early.remote) != 1 || r.early.contact.Host == "" {
		t.Fatalf("the caller's early dialogs %+v: want the INVITE's and the callee's 180's tags, and our Contact", r.early)
	}
	return r
}

// pickUp sends the INVITE that picks up the call srv's INVITE (inv) rings with: Replaces names
// its early dialog as the caller sees it.
func pickUp(t *testing.T, callerAddr string, inv *sip.Request) *sip.Response {
	t.Helper()
	replaces := replacesOf(inv)
	offer := []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
	return sendRaw(t, callerAddr, sip.INVITE, map[string]string{"Replaces": replaces, "Contact": "<sip:picker@127.0.0.1:9>"},
		"application/sdp", offer)
}

// ringingAt has a new phone call srv, which rings (180, tag callee1) and answers nothing else
// unless the test says: the phone, its address and events, the call's id and its INVITE.
func ringingAt(t *testing.T, srv *lateServer) (*Phone, string, <-chan Event, string, *sip.Request) {
	t.Helper()
	caller, callerAddr, events := runPhone(t, Config{})
	out, err := caller.Dial("", "sip:x@"+srv.pc.LocalAddr().String(), CallAudio{}, DialOptions{RingTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	inv := srv.readMethod(sip.INVITE, 10*time.Second)
	srv.respond(inv, 180, "Ringing")
	waitCall(t, events, out, CallRinging)
	return caller, callerAddr, events, out, inv
}

// replacesOf is the Replaces value that names the early dialog of inv (the caller's INVITE)
// and srv's 180, as the caller sees it.
func replacesOf(inv *sip.Request) string {
	tag, _ := inv.From().Params.Get("tag")
	return inv.CallID().Value() + ";to-tag=" + tag + ";from-tag=callee1"
}

// TestPickupAnswersTheRingingCall: an INVITE with Replaces naming the early dialog of a call we
// placed is answered 200 at once, the front end hears "replaced" and then the new call
// answered, and the ringing INVITE is cancelled; a second such INVITE (the callee never
// answered the CANCEL, so the call has not ended yet) gets 481, not a second call.
func TestPickupAnswersTheRingingCall(t *testing.T) {
	srv := newLateServer(t)
	caller, callerAddr, events, out, inv := ringingAt(t, srv)
	// The first picker is a whole UA: it ACKs the 200, and hears the BYE at the end.
	picker := dialRaw(t, callerAddr, sip.NewHeader("Replaces", replacesOf(inv)))
	ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if err := picker.sess.Load().WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatalf("the pickup was not answered: %v", err)
	}
	if err := picker.ack(); err != nil {
		t.Fatal(err)
	}
	var picked string
	waitEvent(t, events, "the ringing call replaced, the new one answered", func(ev Event) bool {
		if r, ok := ev.(CallReplaced); ok && r.CallID == out {
			picked = r.NewCallID
		}
		s, ok := ev.(CallStatus)
		return ok && picked != "" && s.ID == picked && s.State == CallAnswered
	})
	cancel := srv.readMethod(sip.CANCEL, 5*time.Second)
	if cancel.CallID().Value() != inv.CallID().Value() {
		t.Fatalf("CANCEL for %s, want the ringing INVITE's %s", cancel.CallID().Value(), inv.CallID().Value())
	}
	if res := pickUp(t, callerAddr, inv); res.StatusCode != 481 {
		t.Fatalf("a second pickup was answered %d %s, want 481", res.StatusCode, res.Reason)
	}
	endCancelled(t, srv, inv, cancel, events, out)
	if err := caller.Hangup(picked); err != nil {
		t.Fatal(err)
	}
	waitCall(t, events, picked, CallEnded)
	select {
	case <-picker.byes:
	case <-time.After(5 * time.Second):
		t.Fatal("the picker heard no BYE")
	}
}

// TestNoPickupAfterHangup: once the user hung up a ringing call, an INVITE picking it up gets
// 481, even while the callee has not answered the CANCEL.
func TestNoPickupAfterHangup(t *testing.T) {
	srv := newLateServer(t)
	caller, callerAddr, events, out, inv := ringingAt(t, srv)
	if err := caller.Hangup(out); err != nil {
		t.Fatal(err)
	}
	cancel := srv.readMethod(sip.CANCEL, 5*time.Second) // not answered before the pickup
	if res := pickUp(t, callerAddr, inv); res.StatusCode != 481 {
		t.Fatalf("a pickup after the hang-up was answered %d %s, want 481", res.StatusCode, res.Reason)
	}
	endCancelled(t, srv, inv, cancel, events, out)
}

// endCancelled has srv answer the CANCEL and the INVITE (487), and waits for the call's end.
func endCancelled(t *testing.T, srv *lateServer, inv, cancel *sip.Request, events <-chan Event, id string) {
	t.Helper()
	srv.respond(cancel, 200, "OK")
	srv.respond(inv, 487, "Request Terminated")
	srv.readMethod(sip.ACK, 5*time.Second)
	waitCall(t, events, id, CallEnded)
}
