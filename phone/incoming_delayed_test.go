package phone

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// offerlessCall is a raw caller's INVITE without SDP to phone tp (at addr), answered there with
// a, and the phone's 200: its call id, the 200's offer, and a context bounding the rest.
func offerlessCall(t *testing.T, tp *Phone, addr string, events <-chan Event, a CallAudio) (*rawCaller, string, *sdp.ParsedOffer, context.Context) {
	t.Helper()
	r := dialRawWith(t, addr, nil)
	in := waitCall(t, events, "", CallIncoming)
	if err := tp.Answer(in.ID, a); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	s := r.sess.Load()
	if err := s.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatalf("the INVITE without SDP: %v", err)
	}
	offer, err := sdp.ParseOffer(s.InviteResponse.Body())
	if err != nil {
		t.Fatalf("the 200 to an INVITE without SDP carries no offer: %v\n%s", err, s.InviteResponse.Body())
	}
	return r, in.ID, offer, ctx
}

// TestDelayedOfferAnsweredHeld: an ACK whose answer holds us (sendonly, as RFC 3725 third-party
// call control or a PBX parking the call answers) makes the call answered and held by the far
// end, said in its status and a hold event, as a hold in a re-INVITE would be.
func TestDelayedOfferAnsweredHeld(t *testing.T) {
	tp, addr, events := runPhone(t, Config{})
	r, id, offer, _ := offerlessCall(t, tp, addr, events, CallAudio{})
	answer, _, err := offer.Answer(sdp.Local{Addr: "127.0.0.1", Port: 4000, Codecs: []string{"PCMU"}, Dir: sdp.SendOnly})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ackWith(answer); err != nil {
		t.Fatalf("ACK: %v", err)
	}
	waitCall(t, events, id, CallAnswered)
	deadline := time.After(10 * time.Second)
	var held, heldEvent bool
	for !held || !heldEvent {
		select {
		case ev := <-events:
			switch ev := ev.(type) {
			case CallStatus:
				if ev.ID == id && ev.State == CallHeld {
					held = ev.RemoteHeld && !ev.Held
				}
			case HoldChanged:
				heldEvent = heldEvent || ev.CallID == id && ev.Held && ev.By == "remote"
			}
		case <-deadline:
			t.Fatalf("after a sendonly answer in the ACK: held status %v (remote, not by us), hold event %v", held, heldEvent)
		}
	}
	if err := tp.Hangup(id); err != nil {
		t.Fatal(err)
	}
	waitCall(t, events, id, CallEnded)
}

// TestDelayedOfferByeRightAfterAck: a caller that hangs up right after its ACK (sipp under load
// does) still had its call answered: the history says so, not "missed".
func TestDelayedOfferByeRightAfterAck(t *testing.T) {
	tp, addr, events := runPhone(t, Config{})
	r, id, offer, _ := offerlessCall(t, tp, addr, events, CallAudio{})
	answer, _, err := offer.Answer(sdp.Local{Addr: "127.0.0.1", Port: 4000, Codecs: []string{"PCMU"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ackWith(answer); err != nil {
		t.Fatalf("ACK: %v", err)
	}
	// Built by hand, at once: sipgo's Bye wants its own ACK first.
	sess := r.sess.Load()
	bye := sip.NewRequest(sip.BYE, sess.InviteResponse.Contact().Address)
	bye.AppendHeader(sip.HeaderClone(sess.InviteRequest.From()))
	bye.AppendHeader(sip.HeaderClone(sess.InviteResponse.To()))
	bye.AppendHeader(sip.HeaderClone(sess.InviteRequest.CallID()))
	bye.AppendHeader(&sip.CSeqHeader{SeqNo: sess.InviteRequest.CSeq().SeqNo + 1, MethodName: sip.BYE})
	if err := r.client.WriteRequest(bye); err != nil {
		t.Fatalf("BYE: %v", err)
	}
	end := waitCall(t, events, id, CallEnded)
	if end.Answered.IsZero() || end.By != "remote" {
		t.Fatalf("ended %+v: want answered, then hung up by the caller", end)
	}
}

// TestDelayedOfferAnsweredInTheACK: an INVITE without SDP (a delayed offer, as Cisco CUCM
// trunks send) is answered with our offer in the 200, every codec we have; the caller's ACK
// answers it, and the call's media follows that answer: the codec it picked (PCMA, not our
// first), and the address it names, where the phone's tone goes and comes back from. Before
// the ACK the call is not answered (no DTMF). Such INVITEs were refused 488.
func TestDelayedOfferAnsweredInTheACK(t *testing.T) {
	tp, addr, events := runPhone(t, Config{})
	rec := audiotest.NewRecorder()
	r, id, offer, _ := offerlessCall(t, tp, addr, events, CallAudio{Source: audiotest.NewTone(700, 0.5), Sink: rec})
	if err := tp.SendDTMF(id, "1"); err == nil || !strings.Contains(err.Error(), "not answered") {
		t.Errorf("DTMF before the ACK's answer: %v, want not answered yet", err)
	}
	// The far end's media: it sends back what it gets, under its own SSRC.
	rtp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rtp.Close()
	var firstPT atomic.Int32
	firstPT.Store(-1)
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := rtp.ReadFrom(buf)
			if err != nil {
				return // closed at the test's end
			}
			if n < 12 {
				continue
			}
			firstPT.CompareAndSwap(-1, int32(buf[1]&0x7f))
			copy(buf[8:12], []byte{0xfe, 0xed, 0xfa, 0xce})
			_, _ = rtp.WriteTo(buf[:n], from)
		}
	}()
	answer, _, err := offer.Answer(sdp.Local{Addr: "127.0.0.1", Port: rtp.LocalAddr().(*net.UDPAddr).Port,
		Codecs: []string{"PCMA"}, DTMF: true})
	if err != nil {
		t.Fatalf("answering the 200's offer: %v", err)
	}
	if err := r.ackWith(answer); err != nil {
		t.Fatalf("ACK: %v", err)
	}
	if s := waitCall(t, events, id, CallAnswered); s.Codec != "PCMA" {
		t.Errorf("answered with codec %q, want PCMA (the ACK's answer)", s.Codec)
	}
	for deadline := time.Now().Add(5 * time.Second); !heardAfter(rec, 0, 700); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the phone's 700 Hz never came back through the address the ACK's answer named (%d frames recorded)", rec.Frames())
		}
	}
	if pt := firstPT.Load(); pt != 8 {
		t.Errorf("the phone sent RTP payload type %d, want 8 (PCMA, as the ACK answered)", pt)
	}
	if err := tp.Hangup(id); err != nil {
		t.Fatal(err)
	}
	waitCall(t, events, id, CallEnded)
}

// TestDelayedOfferWithoutAnswerEnds: an ACK that does not answer the offer in our 200 leaves
// no session to run: the call ends with a BYE, and it was never published as answered.
func TestDelayedOfferWithoutAnswerEnds(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer string
	}{
		{"no body", ""},
		{"no codec of ours", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tp, addr, events := runPhone(t, Config{})
			r, id, _, _ := offerlessCall(t, tp, addr, events, CallAudio{})
			if err := r.ackWith([]byte(c.answer)); err != nil {
				t.Fatalf("ACK: %v", err)
			}
			select {
			case <-r.byes:
			case <-time.After(10 * time.Second):
				t.Fatal("no BYE after an ACK without a usable answer")
			}
			deadline := time.After(10 * time.Second)
			for {
				var ev Event
				select {
				case ev = <-events:
				case <-deadline:
					t.Fatal("the call never ended")
				}
				s, ok := ev.(CallStatus)
				if !ok || s.ID != id {
					continue
				}
				if s.State == CallAnswered {
					t.Fatalf("published answered without an answer: %+v", s)
				}
				if s.State == CallEnded {
					if s.Code != 488 || !strings.Contains(s.Reason, "answer in the ACK") {
						t.Errorf("ended %d %q, want 488 for no usable answer in the ACK", s.Code, s.Reason)
					}
					return
				}
			}
		})
	}
}

// TestDelayedOfferReferBeforeAck: a request in the dialog that overtakes the ACK of our offer
// (a REFER, here one we refuse for its http: target) is taken as in any answered call, its
// CSeq counted, not refused 403 for a call "not answered".
func TestDelayedOfferReferBeforeAck(t *testing.T) {
	tp, addr, events := runPhone(t, Config{})
	r, id, offer, ctx := offerlessCall(t, tp, addr, events, CallAudio{})
	refer := sip.NewRequest(sip.REFER, r.sess.Load().InviteResponse.Contact().Address)
	refer.AppendHeader(sip.NewHeader("Refer-To", "<http://example.org/>"))
	r.do(t, ctx, refer, 416)
	answer, _, err := offer.Answer(sdp.Local{Addr: "127.0.0.1", Port: 4000, Codecs: []string{"PCMU"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ackWith(answer); err != nil {
		t.Fatalf("ACK: %v", err)
	}
	waitCall(t, events, id, CallAnswered)
	if err := tp.Hangup(id); err != nil {
		t.Fatal(err)
	}
	waitCall(t, events, id, CallEnded)
}

// TestDelayedOfferHangupBeforeAck: the user who answered and hangs up before the caller's ACK
// (with its answer) came ended an answered call: the history says answered, by us, not a call
// we rejected. The BYE waits for the ACK (RFC 3261 15).
func TestDelayedOfferHangupBeforeAck(t *testing.T) {
	tp, addr, events := runPhone(t, Config{})
	r, id, offer, _ := offerlessCall(t, tp, addr, events, CallAudio{})
	if err := tp.Hangup(id); err != nil {
		t.Fatal(err)
	}
	answer, _, err := offer.Answer(sdp.Local{Addr: "127.0.0.1", Port: 4000, Codecs: []string{"PCMU"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ackWith(answer); err != nil {
		t.Fatalf("ACK: %v", err)
	}
	end := waitCall(t, events, id, CallEnded)
	if end.Answered.IsZero() || end.By != "local" || end.Code != 0 {
		t.Fatalf("ended %d %q by %s, answered %v: want answered, then hung up by us", end.Code, end.Reason, end.By, end.Answered)
	}
}
