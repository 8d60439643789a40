package phone

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// TestOfferlessReinviteOffersTheSessionAsItIs: a re-INVITE without SDP (a session refresh, as
// Cisco and some carriers send, or a PBX re-anchoring the media) gets our offer in the 200,
// and the far end's answer comes in the ACK. The offer is the session as it stands, its one
// codec (offering every codec let the far end pick another), and the answer is applied: here
// it moves the far end's media to another port. The ACK's body used to be dropped, and audio
// went on to the old port.
func TestOfferlessReinviteOffersTheSessionAsItIs(t *testing.T) {
	tp, tAddr, tEv := runPhone(t, Config{})
	r, id, ctx := answeredRaw(t, tp, tAddr, tEv)
	s := r.sess.Load()
	first := audioCodecs(string(s.InviteResponse.Body()))
	reinvite := farEndReinvite(s, s.InviteRequest.Contact().Address, nil)
	res, err := s.Do(ctx, reinvite)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("re-INVITE without SDP: %v %v", res, err)
	}
	// The call's answer named one audio codec; the offer names that one only (and
	// telephone-event, at its rates).
	if offer := audioCodecs(string(res.Body())); offer != first || strings.Contains(first, " ") {
		t.Errorf("audio codecs offered in the 200: %q; the session as answered: %q", offer, first)
	}
	moved, err := net.ListenPacket("udp", "127.0.0.1:0") // where the far end's media goes now
	if err != nil {
		t.Fatal(err)
	}
	defer moved.Close()
	port := moved.LocalAddr().(*net.UDPAddr).Port
	o, err := sdp.ParseOffer(res.Body())
	if err != nil {
		t.Fatal(err)
	}
	answer, _, err := o.Answer(sdp.Local{Addr: "127.0.0.1", Port: port, Codecs: supportedCodecs(), DTMF: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ackReinvite(reinvite, answer); err != nil {
		t.Fatalf("ACK: %v", err)
	}
	c, err := tp.lookupCall(id)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c.mu.Lock()
		remote := c.remoteSDP
		c.mu.Unlock()
		if int(remote.Port()) == port {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the far end's media stays at %v after the ACK's answer moved it to port %d", remote, port)
		}
	}
}

// audioCodecs lists the encodings an SDP's a=rtpmap lines name, telephone-event aside.
func audioCodecs(body string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "a=rtpmap:"); ok {
			if _, enc, ok := strings.Cut(rest, " "); ok && !strings.HasPrefix(enc, "telephone-event") {
				name, _, _ := strings.Cut(enc, "/")
				out = append(out, name)
			}
		}
	}
	return strings.Join(out, " ")
}

// TestOfferlessHoldAnsweredInTheACK: the far end holds the call with a re-INVITE without SDP
// and answers our offer sendonly in its ACK (Cisco CUCM's way): the call is held by the far
// end, as with a re-INVITE that offers sendonly. The ACK's answer was dropped, so the call
// went on as if talking and, silent, could end at the media timeout.
func TestOfferlessHoldAnsweredInTheACK(t *testing.T) {
	tp, tAddr, tEv := runPhone(t, Config{})
	r, id, ctx := answeredRaw(t, tp, tAddr, tEv)
	s := r.sess.Load()
	reinvite := farEndReinvite(s, s.InviteRequest.Contact().Address, nil)
	res, err := s.Do(ctx, reinvite)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("re-INVITE without SDP: %v %v", res, err)
	}
	o, err := sdp.ParseOffer(res.Body())
	if err != nil {
		t.Fatal(err)
	}
	answer, _, err := o.Answer(sdp.Local{Addr: "127.0.0.1", Port: 9, Codecs: supportedCodecs(), DTMF: true, Dir: sdp.SendOnly})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ackReinvite(reinvite, answer); err != nil {
		t.Fatalf("ACK: %v", err)
	}
	waitHold(t, tEv, id, true, "remote")
	if st := statusBecomes(t, tp, id, CallHeld); !st.RemoteHeld {
		t.Errorf("status %+v, want held by the far end", st)
	}
}

// farEndReinvite is a re-INVITE from the far end of s (the caller of answeredRaw's call), with
// contact as its Contact and body, when there is one, as its SDP.
func farEndReinvite(s *sipgo.DialogClientSession, contact sip.Uri, body []byte) *sip.Request {
	reinvite := sip.NewRequest(sip.INVITE, s.InviteResponse.Contact().Address)
	reinvite.AppendHeader(&sip.ContactHeader{Address: contact})
	if body != nil {
		ct := sip.ContentTypeHeader("application/sdp")
		reinvite.AppendHeader(&ct)
		reinvite.SetBody(body)
	}
	return reinvite
}

// TestHoldWaitsForTheAnswerInTheACK: a hold asked for between our 200 to a re-INVITE without
// SDP (which carries our offer) and the far end's ACK (which carries the answer) waits for that
// ACK: a second offer before the answer to the first is what RFC 3264 §4 forbids, and the ACK's
// answer would then have been read as the answer to the hold. The hold's re-INVITE goes once
// the ACK came; it goes too when the ACK brings no answer. When none comes in 64*T1 the call
// ends with our BYE instead (RFC 3261 13.3.1.4), and no hold goes.
func TestHoldWaitsForTheAnswerInTheACK(t *testing.T) {
	// Set before any phone starts: their 200s' retransmitters read it.
	old := okAckWait
	okAckWait = 2 * time.Second // stands in for 64*T1; the other cases ACK well within it
	t.Cleanup(func() { okAckWait = old })
	for _, ack := range []string{"with an answer", "without", "never"} {
		withAnswer := ack == "with an answer"
		tp, tAddr, tEv := runPhone(t, Config{})
		r, id, ctx := answeredRaw(t, tp, tAddr, tEv)
		holds := make(chan *sip.Request, 4)
		onReinvite := func(req *sip.Request, tx sip.ServerTransaction) {
			holds <- req
			_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil)) // the hold fails: enough here
		}
		r.reinvite.Store(&onReinvite)
		s := r.sess.Load()
		reinvite := farEndReinvite(s, s.InviteRequest.Contact().Address, nil)
		res, err := s.Do(ctx, reinvite)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("re-INVITE without SDP: %v %v", res, err)
		}
		if err := tp.Hold(id); err != nil {
			t.Fatal(err)
		}
		select {
		case req := <-holds:
			t.Fatalf("the hold's re-INVITE left before the ACK of our offer:\n%s", req)
		case <-time.After(300 * time.Millisecond):
		}
		var answer []byte
		if withAnswer {
			o, err := sdp.ParseOffer(res.Body())
			if err != nil {
				t.Fatal(err)
			}
			if answer, _, err = o.Answer(sdp.Local{Addr: "127.0.0.1", Port: 9, Codecs: supportedCodecs(), DTMF: true}); err != nil {
				t.Fatal(err)
			}
		}
		if ack == "never" {
			select {
			case <-r.byes:
			case req := <-holds:
				t.Fatalf("a hold's re-INVITE instead of the BYE for the missing ACK:\n%s", req)
			case <-time.After(5 * time.Second):
				t.Fatal("no BYE 64*T1 after our 200 to the re-INVITE without its ACK")
			}
			if st := waitEnded(t, tEv, id)[id]; st.Code != 408 || st.Reason != "no ACK" {
				t.Errorf("ended %d %q, want 408 no ACK", st.Code, st.Reason)
			}
			continue
		}
		if err := r.ackReinvite(reinvite, answer); err != nil {
			t.Fatalf("ACK: %v", err)
		}
		select {
		case req := <-holds:
			if !strings.Contains(string(req.Body()), "a=sendonly") {
				t.Fatalf("the re-INVITE after the ACK does not hold:\n%s", req.Body())
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no hold re-INVITE after the ACK (%s)", ack)
		}
	}
}
