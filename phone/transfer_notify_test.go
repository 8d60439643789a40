package phone

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// byeOnAnswer is the server transaction of a NOTIFY handed to onNotify by the test: when our
// 200 goes out, the transferee hangs up at once, as a dialtone transferee does (refer.go), and
// Respond returns only once that BYE has ended our dialog, so that onNotify goes on in the
// worst order the two handlers' goroutines can take.
type byeOnAnswer struct {
	sip.ServerTransaction // nil: onNotify only responds
	t                     *testing.T
	p                     *Phone
	id                    string
	r                     *rawCaller
	codes                 []int
}

func (b *byeOnAnswer) Respond(res *sip.Response) error {
	b.codes = append(b.codes, int(res.StatusCode))
	if res.StatusCode != 200 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.r.sess.Load().Bye(ctx); err != nil {
		b.t.Errorf("the transferee's BYE: %v", err)
		return nil
	}
	for i := 0; ; i++ { // the dialog's end is handled in a goroutine of its own (trackDialog)
		b.p.xfer.mu.Lock()
		gone := b.p.xfer.dialogs[b.id] == nil
		b.p.xfer.mu.Unlock()
		if gone {
			return nil
		}
		if i == 500 {
			b.t.Error("our dialog still tracked 5 s after the BYE")
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFinalNotifyRacesBye: the transferee's final NOTIFY is answered, and its BYE ends the
// call before the NOTIFY's handler has gone on. The transfer's outcome must still be
// published: it was dropped when the end of the dialog forgot the subscription first.
func TestFinalNotifyRacesBye(t *testing.T) {
	tp, tAddr, tEv := runPhone(t, Config{})
	r, t1, _ := referredRaw(t, tp, tAddr, tEv)
	notify := finalNotify(r.sess.Load(), "finalnotify")
	tx := &byeOnAnswer{t: t, p: tp, id: t1, r: r}
	tp.onNotify(notify, tx)
	if len(tx.codes) != 1 || tx.codes[0] != 200 {
		t.Fatalf("final NOTIFY answered %v, want 200", tx.codes)
	}
	fin := transferOutcome(t, tEv, t1, t1)
	if fin.Code != 200 {
		t.Fatalf("transfer ended %d %s, want 200", fin.Code, fin.Reason)
	}
}

// referredRaw is a raw caller's call answered by tp, which has just sent it a REFER (to a
// target nobody answers): the raw caller, tp's call id and a context for the test.
func referredRaw(t *testing.T, tp *Phone, addr string, events <-chan Event) (*rawCaller, string, context.Context) {
	t.Helper()
	r := dialRaw(t, addr)
	t1 := answerNext(t, tp, events, CallAudio{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	sess := r.sess.Load()
	if err := sess.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatalf("the raw caller's INVITE: %v", err)
	}
	if err := sess.Ack(ctx); err != nil { // sipgo's: right here, as nothing went before it
		t.Fatalf("ACK: %v", err)
	}
	if err := tp.Transfer(t1, "sip:g@127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.refers:
	case <-ctx.Done():
		t.Fatal("the raw caller got no REFER")
	}
	return r, t1, ctx
}

// finalNotify is the transferee's final NOTIFY (200) as it would arrive in sess's dialog, for
// the test to hand to onNotify; branch names its transaction.
func finalNotify(sess *sipgo.DialogClientSession, branch string) *sip.Request {
	notify := sip.NewRequest(sip.NOTIFY, sess.InviteResponse.Contact().Address)
	notify.AppendHeader(sip.HeaderClone(sess.InviteRequest.From()))
	notify.AppendHeader(sip.HeaderClone(sess.InviteResponse.To()))
	notify.AppendHeader(sip.HeaderClone(sess.InviteRequest.CallID()))
	notify.AppendHeader(&sip.CSeqHeader{SeqNo: sess.CSEQ() + 1, MethodName: sip.NOTIFY})
	notify.AppendHeader(sip.NewHeader("Via", "SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK."+branch))
	notify.AppendHeader(sip.NewHeader("Event", "refer"))
	notify.AppendHeader(sip.NewHeader("Subscription-State", "terminated;reason=noresource"))
	ct := sip.ContentTypeHeader("message/sipfrag;version=2.0")
	notify.AppendHeader(&ct)
	notify.SetBody([]byte("SIP/2.0 200 OK\r\n"))
	return notify
}

// codesTx is a server transaction that keeps the status codes it is given.
type codesTx struct {
	sip.ServerTransaction // nil: onNotify only responds
	codes                 []int
}

func (r *codesTx) Respond(res *sip.Response) error {
	r.codes = append(r.codes, int(res.StatusCode))
	return nil
}

// TestFinalNotifyAfterBye: the transferee hangs up first and sends its final NOTIFY after (or
// sipgo's goroutines hand them over in that order). The subscription is a usage of the dialog
// of its own (RFC 5057): the NOTIFY is answered 200 and the transfer's outcome published. It
// was answered 481 and the outcome lost.
func TestFinalNotifyAfterBye(t *testing.T) {
	t.Run("after the BYE", func(t *testing.T) { finalNotifyAfterTheDialog(t, true) })
	t.Run("before the call is removed", func(t *testing.T) { finalNotifyAfterTheDialog(t, false) })
}

// finalNotifyAfterTheDialog is TestFinalNotifyAfterBye: the transferee's BYE ends the dialog
// (byeFirst), or the test forgets it as the dialog's end does while the call is still filed.
func finalNotifyAfterTheDialog(t *testing.T, byeFirst bool) {
	tp, tAddr, tEv := runPhone(t, Config{})
	r, t1, ctx := referredRaw(t, tp, tAddr, tEv)
	sess := r.sess.Load()
	if !byeFirst {
		// The moment between the dialog's end (its context, which forgets it) and the call's
		// removal from the phone's dialogs: the NOTIFY finds the call, not its subscription.
		tp.xfer.forget(t1, nil)
	} else if err := sess.Bye(ctx); err != nil {
		t.Fatalf("the transferee's BYE: %v", err)
	}
	for i := 0; ; i++ { // the call's end reaches the transfer's state in a goroutine of its own
		tp.xfer.mu.Lock()
		gone := tp.xfer.dialogs[t1] == nil
		tp.xfer.mu.Unlock()
		if gone {
			break
		}
		if i == 500 {
			t.Fatal("our dialog still tracked 5 s after the BYE")
		}
		time.Sleep(10 * time.Millisecond)
	}

	notify := finalNotify(sess, "afterbye")
	tx := &codesTx{}
	tp.onNotify(notify, tx)
	if len(tx.codes) != 1 || tx.codes[0] != 200 {
		t.Fatalf("final NOTIFY after the BYE answered %v, want 200", tx.codes)
	}
	var ends []string
	if byeFirst {
		ends = []string{t1}
	}
	if fin := transferOutcome(t, tEv, t1, ends...); fin.Code != 200 {
		t.Fatalf("transfer ended %d %s, want 200", fin.Code, fin.Reason)
	}
	// Once given, the outcome is not kept: a repeat of the final NOTIFY has no subscription.
	tx = &codesTx{}
	tp.onNotify(notify, tx)
	if len(tx.codes) != 1 || tx.codes[0] != 481 {
		t.Errorf("the final NOTIFY again answered %v, want 481", tx.codes)
	}
}

// TestReferSubNamesItsNOTIFYs: a NOTIFY naming another REFER of ours (Event: refer;id=) is not
// this transfer's; one without an id, or naming this REFER, is.
func TestReferSubNamesItsNOTIFYs(t *testing.T) {
	sent := &referSub{cseq: 7}
	for params, want := range map[string]bool{"": true, "id=7": true, " id = 7 ": true, "id=3": false, "id=x": false, "foo=1": true, "foo=1;ID=7": true} {
		if got := sent.names(params); got != want {
			t.Errorf("REFER 7, Event refer;%s: %v, want %v", params, got, want)
		}
	}
	if !(&referSub{}).names("id=3") {
		t.Error("a NOTIFY with an id before our REFER's number is known was refused")
	}
}
