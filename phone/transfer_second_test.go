package phone

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestSecondREFERWhileTheFirstsNOTIFYWaits: the transferor's first REFER fails (486), and it
// sends the next at once, while the first one's final NOTIFY still waits for its 200. The
// first REFER's clean-up then ran after the second had filed the new call as the old call's
// successor, and forgot it: the transferor hung up after the second's 202 (a blind transfer)
// and the old call ended without naming its successor (no CallReplaced: the front end lost
// the new call's audio, `dialtone call` exited).
func TestSecondREFERWhileTheFirstsNOTIFYWaits(t *testing.T) {
	r, e1, eEv, ctx, busyAddr := rawTransferor(t)
	_, gAddr, gEv := runPhone(t, Config{})
	// The final NOTIFY of the first REFER (486) is answered only when the test says.
	finalSeen, release := make(chan struct{}), make(chan struct{})
	h := func(req *sip.Request, tx sip.ServerTransaction) {
		if strings.Contains(string(req.Body()), "486") {
			close(finalSeen)
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	r.notify.Store(&h)
	refer := func(target string) {
		req := sip.NewRequest(sip.REFER, r.sess.Load().InviteResponse.Contact().Address)
		req.AppendHeader(sip.NewHeader("Refer-To", "<"+target+">"))
		r.do(t, ctx, req, 202)
	}
	refer("sip:b@" + busyAddr)
	select {
	case <-finalSeen:
	case <-ctx.Done():
		t.Fatal("no final NOTIFY of the first REFER")
	}
	refer("sip:g@" + gAddr)
	close(release)                     // the first REFER's NOTIFY is answered; its clean-up runs
	waitCall(t, gEv, "", CallIncoming) // the second transfer's new call is placed (its NOTIFYs wait for the first's)
	time.Sleep(300 * time.Millisecond) // the first's clean-up is done before the hang-up (the race being tested)
	bye := sip.NewRequest(sip.BYE, r.sess.Load().InviteResponse.Contact().Address)
	r.do(t, ctx, bye, 200)
	ev := waitEvent(t, eEv, "the old call's successor or end", func(ev Event) bool {
		if rep, ok := ev.(CallReplaced); ok && rep.CallID == e1 {
			return true
		}
		s, ok := ev.(CallStatus)
		return ok && s.ID == e1 && s.State == CallEnded
	})
	if _, ok := ev.(CallReplaced); !ok {
		t.Fatalf("the old call ended without naming the second transfer's call as its successor")
	}
}

// TestTransfereeTimeoutEndsTheNewCall: a transfer we carry out that runs out of time (the
// new call still unanswered) is reported 408 to the transferor, who keeps the old call: the
// new call must end too, or it could still be answered and run beside the old one.
func TestTransfereeTimeoutEndsTheNewCall(t *testing.T) {
	old := transfereeTimeout
	transfereeTimeout = 2 * time.Second // not parallel: the variable is the package's
	t.Cleanup(func() { transfereeTimeout = old })
	ep, eAddr, eEv := runPhone(t, Config{})
	_, gAddr, gEv := runPhone(t, Config{}) // rings, never answers
	r, _, ctx := answeredRaw(t, ep, eAddr, eEv)
	final := make(chan string, 1)
	h := func(req *sip.Request, tx sip.ServerTransaction) {
		if st := req.GetHeader("Subscription-State"); st != nil && strings.HasPrefix(st.Value(), "terminated") {
			final <- string(req.Body())
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	r.notify.Store(&h)
	req := sip.NewRequest(sip.REFER, r.sess.Load().InviteResponse.Contact().Address)
	req.AppendHeader(sip.NewHeader("Refer-To", "<sip:g@"+gAddr+">"))
	r.do(t, ctx, req, 202)
	in := waitCall(t, gEv, "", CallIncoming)
	select {
	case body := <-final:
		if !strings.Contains(body, "408") {
			t.Fatalf("final NOTIFY %q, want 408", body)
		}
	case <-ctx.Done():
		t.Fatal("no final NOTIFY")
	}
	if end := waitCall(t, gEv, in.ID, CallEnded); end.By != "remote" {
		t.Errorf("G's call ended by %q, want the transferee (remote)", end.By)
	}
}

// TestReferSubFalseGetsNoNotify: a REFER with "Refer-Sub: false" (RFC 4488) is carried out
// without the implicit subscription: the 202 says "Refer-Sub: false" and no NOTIFY follows.
// They were sent anyway, and the transferor answered each 481.
func TestReferSubFalseGetsNoNotify(t *testing.T) {
	ep, eAddr, eEv := runPhone(t, Config{})
	_, gAddr, gEv := runPhone(t, Config{})
	r, _, ctx := answeredRaw(t, ep, eAddr, eEv)
	var notifies atomic.Int32
	h := func(req *sip.Request, tx sip.ServerTransaction) {
		notifies.Add(1)
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	}
	r.notify.Store(&h)
	s := r.sess.Load()
	req := sip.NewRequest(sip.REFER, s.InviteResponse.Contact().Address)
	req.AppendHeader(sip.NewHeader("Refer-To", "<sip:g@"+gAddr+">"))
	req.AppendHeader(sip.NewHeader("Refer-Sub", "false;x=1")) // with an extension parameter, as the grammar allows
	res, err := s.Do(ctx, req)
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
	if h := res.GetHeader("Refer-Sub"); h == nil || h.Value() != "false" {
		t.Errorf("202 without Refer-Sub: false: %v", res.GetHeader("Refer-Sub"))
	}
	// The 100 Trying NOTIFY, when there is one, is sent and answered before the new call is
	// placed: none has come by the time G rings.
	waitCall(t, gEv, "", CallIncoming)
	if n := notifies.Load(); n != 0 {
		t.Errorf("%d NOTIFYs after a REFER with Refer-Sub: false", n)
	}
}

// TestSecondREFERsNOTIFYsNameIt: the NOTIFYs of a second REFER in one dialog carry
// "Event: refer;id=" and that REFER's CSeq number (RFC 3515 2.4.6 MUST), so the transferor can
// tell them from the first one's; the first's carry plain "refer". Both were plain "refer".
func TestSecondREFERsNOTIFYsNameIt(t *testing.T) {
	r, _, _, ctx, busyAddr := rawTransferor(t)
	_, gAddr, gEv := runPhone(t, Config{})
	type notified struct{ event, frag string }
	got := make(chan notified, 16)
	h := func(req *sip.Request, tx sip.ServerTransaction) {
		ev := ""
		if e := req.GetHeader("Event"); e != nil {
			ev = e.Value()
		}
		got <- notified{ev, strings.TrimSpace(string(req.Body()))}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	r.notify.Store(&h)
	refer := func(target string) uint32 {
		req := sip.NewRequest(sip.REFER, r.sess.Load().InviteResponse.Contact().Address)
		req.AppendHeader(sip.NewHeader("Refer-To", "<"+target+">"))
		r.do(t, ctx, req, 202)
		return req.CSeq().SeqNo
	}
	next := func(want string) notified {
		t.Helper()
		for {
			select {
			case n := <-got:
				if strings.Contains(n.frag, want) {
					return n
				}
			case <-ctx.Done():
				t.Fatalf("no NOTIFY with %q", want)
			}
		}
	}
	refer("sip:b@" + busyAddr)
	if n := next("486"); n.event != "refer" {
		t.Errorf("the first REFER's NOTIFY: Event %q, want refer", n.event)
	}
	second := refer("sip:g@" + gAddr)
	waitCall(t, gEv, "", CallIncoming)
	if n, want := next("180"), "refer;id="+strconv.FormatUint(uint64(second), 10); n.event != want {
		t.Errorf("the second REFER's NOTIFY: Event %q, want %q", n.event, want)
	}
}

// TestReferSubscriptionOutlivesTheTransfer: the transferee's NOTIFYs keep the REFER's
// subscription alive for longer than the transfer may take (transfereeTimeout): once the
// transferor hangs up, no progress NOTIFY refreshes it, and the final one must find it alive.
// It said 60 s, less than a ring timeout and the call's set-up.
func TestReferSubscriptionOutlivesTheTransfer(t *testing.T) {
	r, _, _, ctx, busyAddr := rawTransferor(t)
	states := make(chan string, 8)
	h := func(req *sip.Request, tx sip.ServerTransaction) {
		if s := req.GetHeader("Subscription-State"); s != nil {
			states <- s.Value()
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	r.notify.Store(&h)
	req := sip.NewRequest(sip.REFER, r.sess.Load().InviteResponse.Contact().Address)
	req.AppendHeader(sip.NewHeader("Refer-To", "<sip:b@"+busyAddr+">"))
	r.do(t, ctx, req, 202)
	select {
	case s := <-states: // the first NOTIFY's (100 Trying)
		_, v, ok := strings.Cut(s, "expires=")
		secs, err := strconv.Atoi(v)
		if !strings.HasPrefix(s, "active") || !ok || err != nil || time.Duration(secs)*time.Second <= transfereeTimeout {
			t.Fatalf("Subscription-State %q: want active, expiring after the transfer's %v", s, transfereeTimeout)
		}
	case <-ctx.Done():
		t.Fatal("no NOTIFY")
	}
}

// rawTransferor is phone E answering a raw caller, which the test has transfer E, and a target
// that refuses calls (do-not-disturb, 486): the raw caller, E's call id and events, a context
// for the test, and the busy target's address.
func rawTransferor(t *testing.T) (r *rawCaller, e1 string, eEv <-chan Event, ctx context.Context, busyAddr string) {
	t.Helper()
	ep, eAddr, eEv := runPhone(t, Config{})
	busy, busyAddr, _ := runPhone(t, Config{})
	busy.SetDND(true, 486)
	r, e1, ctx = answeredRaw(t, ep, eAddr, eEv)
	return r, e1, eEv, ctx, busyAddr
}
