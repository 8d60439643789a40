package phone

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// TestTargetRefreshMovesOurRequests: the far end re-INVITEs with a new Contact (a PBX that
// re-anchors the call) and we take it: our later requests in the dialog (a REFER, the BYE) go
// to the new Contact (RFC 3261 12.2.2), not to the one of the first INVITE.
func TestTargetRefreshMovesOurRequests(t *testing.T) {
	tp, tAddr, tEv := runPhone(t, Config{})
	r := dialRaw(t, tAddr)
	t1 := answerNext(t, tp, tEv, CallAudio{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := r.sess.Load()
	if err := s.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatalf("the raw caller's INVITE: %v", err)
	}
	if err := r.ack(); err != nil {
		t.Fatalf("ACK: %v", err)
	}
	moved := *s.InviteRequest.Contact().Address.Clone()
	moved.User = "moved"
	reinvite := sip.NewRequest(sip.INVITE, s.InviteResponse.Contact().Address)
	reinvite.AppendHeader(&sip.ContactHeader{Address: moved})
	ct := sip.ContentTypeHeader("application/sdp")
	reinvite.AppendHeader(&ct)
	reinvite.SetBody(s.InviteRequest.Body())
	res, err := s.Do(ctx, reinvite)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("re-INVITE: %v %v", res, err)
	}
	ack := sip.NewRequest(sip.ACK, s.InviteResponse.Contact().Address)
	ack.AppendHeader(sip.HeaderClone(s.InviteRequest.From()))
	ack.AppendHeader(sip.HeaderClone(s.InviteResponse.To()))
	ack.AppendHeader(sip.HeaderClone(s.InviteRequest.CallID()))
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: reinvite.CSeq().SeqNo, MethodName: sip.ACK})
	if err := r.client.WriteRequest(ack); err != nil {
		t.Fatalf("ACK of the re-INVITE: %v", err)
	}
	if err := tp.Transfer(t1, "sip:g@127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	select {
	case refer := <-r.refers:
		if refer.Recipient.User != "moved" {
			t.Errorf("REFER to %s, want the refreshed target %s", refer.Recipient.String(), moved.String())
		}
	case <-ctx.Done():
		t.Fatal("no REFER")
	}
	if err := tp.Hangup(t1); err != nil {
		t.Fatal(err)
	}
	select {
	case bye := <-r.byes:
		if bye.Recipient.User != "moved" {
			t.Errorf("BYE to %s, want the refreshed target %s", bye.Recipient.String(), moved.String())
		}
	case <-ctx.Done():
		t.Fatal("no BYE")
	}
}
