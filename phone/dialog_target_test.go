package phone

import "testing"

// TestTargetRefreshMovesOurRequests: the far end re-INVITEs with a new Contact (a PBX that
// re-anchors the call) and we take it: our later requests in the dialog (a REFER, the BYE) go
// to the new Contact (RFC 3261 12.2.2), not to the one of the first INVITE.
func TestTargetRefreshMovesOurRequests(t *testing.T) {
	tp, tAddr, tEv := runPhone(t, Config{})
	r, t1, ctx := answeredRaw(t, tp, tAddr, tEv)
	s := r.sess.Load()
	moved := *s.InviteRequest.Contact().Address.Clone()
	moved.User = "moved"
	reinvite := farEndReinvite(s, moved, s.InviteRequest.Body())
	res, err := s.Do(ctx, reinvite)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("re-INVITE: %v %v", res, err)
	}
	if err := r.ackReinvite(reinvite, nil); err != nil {
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
