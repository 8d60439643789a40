package phone

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/emiago/sipgo/sip"
)

// Transfer between dialtone phones over 127.0.0.1 (real SIP and RTP, three user agents in
// this process). The interop tests do the same with baresip; here every role is ours, which
// is what attended transfer needs (baresip 1.0 neither sends nor takes Replaces).

// waitEvent returns the first event that match accepts.
func waitEvent(t *testing.T, events <-chan Event, what string, match func(Event) bool) Event {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev := <-events:
			if match(ev) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s within 20 s", what)
		}
	}
}

func finalTransfer(id string) func(Event) bool {
	return func(ev Event) bool {
		tp, ok := ev.(TransferProgress)
		return ok && tp.CallID == id && tp.Final
	}
}

// transferOutcome waits, in whatever order they come, for the final progress of the transfer
// of call id and for the end of the calls in ends.
func transferOutcome(t *testing.T, events <-chan Event, id string, ends ...string) TransferProgress {
	t.Helper()
	var fin *TransferProgress
	ended := map[string]bool{}
	all := func() bool {
		for _, e := range ends {
			if !ended[e] {
				return false
			}
		}
		return true
	}
	waitEvent(t, events, "the transfer's outcome and the calls' end", func(ev Event) bool {
		switch ev := ev.(type) {
		case TransferProgress:
			if ev.CallID == id && ev.Final {
				fin = &ev
			}
		case CallStatus:
			if ev.State == CallEnded {
				ended[ev.ID] = true
			}
		}
		return fin != nil && all()
	})
	return *fin
}

// waitEnded waits for the end of every call in ids, in whatever order they end.
func waitEnded(t *testing.T, events <-chan Event, ids ...string) map[string]CallStatus {
	t.Helper()
	got := map[string]CallStatus{}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	deadline := time.After(20 * time.Second)
	for len(got) < len(want) {
		select {
		case ev := <-events:
			if s, ok := ev.(CallStatus); ok && s.State == CallEnded && want[s.ID] {
				got[s.ID] = s
			}
		case <-deadline:
			t.Fatalf("calls %v: only %v ended within 20 s", ids, slices.Collect(maps.Keys(got)))
		}
	}
	return got
}

// answerNext answers the next incoming call on a phone with a as its audio.
func answerNext(t *testing.T, p *Phone, events <-chan Event, a CallAudio) string {
	t.Helper()
	in := waitCall(t, events, "", CallIncoming)
	if err := p.Answer(in.ID, a); err != nil {
		t.Fatal(err)
	}
	waitCall(t, events, in.ID, CallAnswered)
	return in.ID
}

// heardAfter says whether the samples a recorder got after the first n hold freq.
func heardAfter(r *audiotest.Recorder, n int, freq float64) bool {
	s := r.Samples()
	if n > len(s) {
		return false
	}
	found, _, _ := audiotest.DetectTone(s[n:], r.Rate(), freq) // the call's codec rate (Opus: 48 kHz)
	return found
}

// TestAttendedTransfer: E calls T; T consults G in a second call; T joins E and G
// (TransferTo: REFER to E with Refer-To G?Replaces=<T-G dialog>). E calls G with Replaces, G
// answers it at once with the audio of its call with T and ends that call; E reports 200 and
// leaves T. T's two calls are over; E and G hear each other.
func TestAttendedTransfer(t *testing.T) {
	tp, tAddr, tEv := runPhone(t, Config{})
	ep, _, eEv := runPhone(t, Config{})
	gp, gAddr, gEv := runPhone(t, Config{})
	eHeard, gHeard := audiotest.NewRecorder(), audiotest.NewRecorder()

	e1, t1, t2 := consult(t, ep, tp, eEv, tEv, tAddr, gAddr, eHeard)
	g1 := answerNext(t, gp, gEv, CallAudio{Source: audiotest.NewTone(900, 0.5), Sink: gHeard})
	waitCall(t, tEv, t2, CallAnswered)
	time.Sleep(time.Second)
	eMark, gMark := len(eHeard.Samples()), len(gHeard.Samples())

	if err := tp.TransferTo(t1, t2); err != nil {
		t.Fatal(err)
	}
	fin := transferOutcome(t, tEv, t1, t1, t2)
	if fin.Code != 200 {
		t.Fatalf("transfer ended %d %s", fin.Code, fin.Reason)
	}
	var g2, gReplaced string
	g1Ended := false
	waitEvent(t, gEv, "G's replacing call answered and the old one ended", func(ev Event) bool {
		if r, ok := ev.(CallReplaced); ok && r.CallID == g1 {
			gReplaced = r.NewCallID
		}
		if s, ok := ev.(CallStatus); ok {
			if s.ID != g1 && (gReplaced == "" || s.State == CallIncoming) {
				// A front end must learn the call is g1's before it sees it, and never ring.
				t.Errorf("G published the replacing call %s as %v (CallReplaced seen: %q)", s.ID, s.State, gReplaced)
			}
			switch {
			case s.ID != g1 && s.State == CallAnswered:
				g2 = s.ID // answered without anyone asking
			case s.ID == g1 && s.State == CallEnded && s.By != "local":
				t.Errorf("G's replaced call ended by %s, want local (G's BYE)", s.By)
			}
			if s.ID == g1 && s.State == CallEnded {
				g1Ended = true
			}
		}
		return g2 != "" && g1Ended
	})
	if gReplaced != g2 {
		t.Errorf("G: CallReplaced names %q, the replacing call is %q", gReplaced, g2)
	}
	eRep := waitEvent(t, eEv, "E's call replaced", func(ev Event) bool {
		r, ok := ev.(CallReplaced)
		return ok && r.CallID == e1
	}).(CallReplaced)
	waitEnded(t, eEv, e1)
	for i := 0; len(tp.Calls()) != 0; i++ { // a call is forgotten just after its last event
		if i == 100 {
			t.Fatalf("T still has calls: %+v", tp.Calls())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // E and G talk
	if !heardAfter(eHeard, eMark, 900) {
		t.Error("E did not hear G after the transfer")
	}
	if !heardAfter(gHeard, gMark, 500) {
		t.Error("G did not hear E after the transfer")
	}
	e2 := eRep.NewCallID
	if calls := ep.Calls(); len(calls) != 1 || calls[0].ID != e2 || calls[0].State != CallAnswered {
		t.Fatalf("E's calls %+v, want only %s answered", calls, e2)
	}
	if err := ep.Hangup(e2); err != nil {
		t.Fatalf("E's new call: %v", err)
	}
	waitEnded(t, gEv, g2)
}

// TestTransferBadInput: REFERs and NOTIFYs that cannot be acted on get a clear refusal, and
// the call goes on: afterwards a real blind transfer of the same call still works.
func TestTransferBadInput(t *testing.T) {
	tp, tAddr, tEv := runPhone(t, Config{})
	ep, _, eEv := runPhone(t, Config{})
	gp, gAddr, gEv := runPhone(t, Config{})

	// Outside any dialog: nobody's transfer, nobody's subscription.
	for _, m := range []sip.RequestMethod{sip.REFER, sip.NOTIFY} {
		res := sendRaw(t, tAddr, m, map[string]string{"Refer-To": "<sip:x@127.0.0.1>", "Event": "refer"}, "message/sipfrag", []byte("SIP/2.0 200 OK\r\n"))
		if res.StatusCode != 481 {
			t.Errorf("%s outside a dialog: %d %s, want 481", m, res.StatusCode, res.Reason)
		}
	}
	// An INVITE replacing a call we do not have, or with a Replaces we cannot read.
	for _, tc := range []struct {
		replaces string
		code     int
	}{{"nosuchcall@x;to-tag=1;from-tag=2", 481}, {"garbage", 400}} {
		res := sendRaw(t, tAddr, sip.INVITE, map[string]string{"Replaces": tc.replaces, "Contact": "<sip:tester@127.0.0.1>"}, "application/sdp", nil)
		if int(res.StatusCode) != tc.code {
			t.Errorf("INVITE with Replaces %q: %d %s, want %d", tc.replaces, res.StatusCode, res.Reason, tc.code)
		}
	}

	e1, err := ep.Dial("", "sip:t@"+tAddr, CallAudio{}, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t1 := answerNext(t, tp, tEv, CallAudio{})
	waitCall(t, eEv, e1, CallAnswered)
	d := tp.dialogOf(t1)
	if d == nil {
		t.Fatal("no dialog for the answered call")
	}
	// early-only (RFC 3891 3): our call is answered, so it is not replaced.
	early := replaces{CallID: d.callID, ToTag: d.localTag, FromTag: d.remoteTag, EarlyOnly: true}
	if res := sendRaw(t, tAddr, sip.INVITE, map[string]string{"Replaces": early.String(), "Contact": "<sip:tester@127.0.0.1>"}, "application/sdp", nil); res.StatusCode != 486 {
		t.Errorf("INVITE replacing an answered call early-only: %d %s, want 486", res.StatusCode, res.Reason)
	}
	inDialog := func(method sip.RequestMethod, headers map[string]string, body string) *sip.Response {
		t.Helper()
		req := tp.inDialogRequest(d, method)
		for k, v := range headers {
			req.AppendHeader(sip.NewHeader(k, v))
		}
		if body != "" {
			ct := sip.ContentTypeHeader("message/sipfrag")
			req.AppendHeader(&ct)
			req.SetBody([]byte(body))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := d.do(ctx, req)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		return res
	}
	for _, tc := range []struct {
		name    string
		headers map[string]string
		code    int
	}{
		{"garbage Refer-To", map[string]string{"Refer-To": "garbage"}, 400},
		{"Refer-To without a host", map[string]string{"Refer-To": "<sip:bob@>"}, 400},
		{"Refer-To of another scheme", map[string]string{"Refer-To": "<http://example.org/>"}, 416},
		{"no Refer-To", nil, 400},
		{"bad Replaces", map[string]string{"Refer-To": "<sip:g@" + gAddr + "?Replaces=nonsense>"}, 400},
	} {
		if res := inDialog(sip.REFER, tc.headers, ""); int(res.StatusCode) != tc.code {
			t.Errorf("REFER with %s: %d %s, want %d", tc.name, res.StatusCode, res.Reason, tc.code)
		}
	}
	// A NOTIFY in the dialog, but E sent no REFER: no subscription.
	if res := inDialog(sip.NOTIFY, map[string]string{"Event": "refer", "Subscription-State": "active"}, "SIP/2.0 200 OK\r\n"); res.StatusCode != 481 {
		t.Errorf("NOTIFY without a subscription: %d %s, want 481", res.StatusCode, res.Reason)
	}
	if err := tp.Transfer(t1, "garbage"); err == nil {
		t.Error("Transfer to a target that is no SIP URI did not fail")
	}
	if err := tp.Transfer("c999", "sip:x@127.0.0.1"); err == nil {
		t.Error("Transfer of a call that does not exist did not fail")
	}
	if err := tp.TransferTo(t1, t1); err == nil {
		t.Error("TransferTo the same call did not fail")
	}
	for _, c := range append(ep.Calls(), tp.Calls()...) {
		if c.State != CallAnswered {
			t.Fatalf("call %s is %v after the bad requests, want answered", c.ID, c.State)
		}
	}

	// The call still works: T transfers E to G (blind).
	if err := tp.Transfer(t1, "sip:g@"+gAddr); err != nil {
		t.Fatal(err)
	}
	g1 := answerNext(t, gp, gEv, CallAudio{})
	if fin := transferOutcome(t, tEv, t1, t1); fin.Code != 200 {
		t.Fatalf("transfer ended %d %s", fin.Code, fin.Reason)
	}
	waitEnded(t, eEv, e1)
	if err := gp.Hangup(g1); err != nil {
		t.Fatal(err)
	}
}

// TestTransferRefused: a transfer whose target rejects the new call reports the failure as
// the final progress, and the transferred call stays answered.
func TestTransferRefused(t *testing.T) {
	tp, tAddr, tEv := runPhone(t, Config{})
	ep, _, eEv := runPhone(t, Config{})
	gp, gAddr, gEv := runPhone(t, Config{})
	e1, t1 := callThenTransfer(t, ep, eEv, tp, tEv, tAddr, "sip:g@"+gAddr)
	in := waitCall(t, gEv, "", CallIncoming)
	if err := gp.Reject(in.ID, 486); err != nil {
		t.Fatal(err)
	}
	fin := waitEvent(t, tEv, "final transfer progress", finalTransfer(t1)).(TransferProgress)
	if fin.Code != 486 {
		t.Fatalf("transfer ended %d %s, want 486", fin.Code, fin.Reason)
	}
	if err := tp.Transfer(t1, "sip:g@"+gAddr); err != nil { // a second try is allowed once the first ended
		t.Fatal(err)
	}
	in = waitCall(t, gEv, "", CallIncoming)
	if err := gp.Reject(in.ID, 603); err != nil {
		t.Fatal(err)
	}
	if fin := waitEvent(t, tEv, "final transfer progress", finalTransfer(t1)).(TransferProgress); fin.Code != 603 {
		t.Fatalf("second transfer ended %d %s, want 603", fin.Code, fin.Reason)
	}
	// The transferred call stays answered on both sides. E's new calls to G ended (a call is
	// forgotten just after its last event, so one may still be listed, ended).
	for _, side := range []struct {
		p  *Phone
		id string
	}{{ep, e1}, {tp, t1}} {
		found := false
		for _, c := range side.p.Calls() {
			switch {
			case c.ID == side.id:
				found = true
				if c.State != CallAnswered {
					t.Fatalf("call %s is %v after the failed transfer, want answered", c.ID, c.State)
				}
			case c.State != CallEnded:
				t.Fatalf("call %s is %v after the failed transfer, want it ended or gone", c.ID, c.State)
			}
		}
		if !found {
			t.Fatalf("call %s is gone after the failed transfer", side.id)
		}
	}
	if err := tp.Hangup(t1); err != nil {
		t.Fatal(err)
	}
	waitCall(t, eEv, e1, CallEnded)
}

// sendRaw sends one out-of-dialog request with sipgo (another SIP stack than the phone's).
func sendRaw(t *testing.T, to string, method sip.RequestMethod, headers map[string]string, contentType string, body []byte) *sip.Response {
	t.Helper()
	toTag := "nosuchdialog"   // the others claim a dialog that is not there
	if method == sip.INVITE { // an INVITE starts a dialog
		toTag = ""
	}
	req := peerRequest(method, to, "tester", "t1", "me", toTag, "no-such-call-"+string(method), 1)
	for k, v := range headers {
		req.AppendHeader(sip.NewHeader(k, v))
	}
	ct := sip.ContentTypeHeader(contentType)
	req.AppendHeader(&ct)
	req.SetBody(body)
	return doRequest(t, testClient(t), req)
}
