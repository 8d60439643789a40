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

// TestDTMFByInfoWithoutTelephoneEvent: a far end whose offer has no telephone-event gets the
// digits as SIP INFO (application/dtmf-relay), one per digit in order, a ',' pausing 500 ms,
// each in the dialog with a CSeq above the last. Before, SendDTMF failed and nothing was sent.
func TestDTMFByInfoWithoutTelephoneEvent(t *testing.T) {
	tp, r, id, events := callWithoutTelephoneEvent(t)
	if err := tp.SendDTMF(id, "5,#"); err != nil {
		t.Fatalf("DTMF to a far end without telephone-event: %v", err)
	}
	var got []string
	var at []time.Time
	var cseq uint32
	for len(got) < 2 {
		select {
		case req := <-r.infos:
			if h := req.ContentType(); h == nil || h.Value() != "application/dtmf-relay" {
				t.Fatalf("INFO Content-Type %v, want application/dtmf-relay", h)
			}
			if req.CSeq().SeqNo <= cseq {
				t.Fatalf("INFO CSeq %d after %d", req.CSeq().SeqNo, cseq)
			}
			cseq = req.CSeq().SeqNo
			d, err := parseDTMFInfo("application/dtmf-relay", req.Body()) // as our own INFO reader takes it
			if err != nil {
				t.Fatalf("INFO body %q: %v", req.Body(), err)
			}
			got, at = append(got, string(d)), append(at, time.Now())
		case <-time.After(5 * time.Second):
			t.Fatalf("INFOs %q, want two", got)
		}
	}
	if strings.Join(got, " ") != "5 #" {
		t.Fatalf("INFO signals %q, want 5 then #", got)
	}
	if gap := at[1].Sub(at[0]); gap < infoPause {
		t.Fatalf("the ',' paused %v between the INFOs, want at least %v", gap, infoPause)
	}
	if err := tp.Hangup(id); err != nil {
		t.Fatal(err)
	}
	waitCall(t, events, id, CallEnded)
}

// callWithoutTelephoneEvent is a raw caller's call, whose offer has no telephone-event,
// answered by a phone: the phone, the caller, the call's id there and the phone's events.
func callWithoutTelephoneEvent(t *testing.T) (*Phone, *rawCaller, string, <-chan Event) {
	t.Helper()
	tp, addr, events := runPhone(t, Config{})
	rtp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rtp.Close() })
	offer, err := sdp.Offer(sdp.Local{Addr: "127.0.0.1", Port: rtp.LocalAddr().(*net.UDPAddr).Port, Codecs: []string{"PCMU"}})
	if err != nil {
		t.Fatal(err)
	}
	ct := sip.ContentTypeHeader("application/sdp")
	r := dialRawWith(t, addr, offer, &ct)
	id := answerNext(t, tp, events, CallAudio{})
	if err := r.sess.Load().WaitAnswer(t.Context(), sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.ack(); err != nil {
		t.Fatal(err)
	}
	return tp, r, id, events
}

// infosWithin collects the signals of the INFOs r receives within d.
func infosWithin(t *testing.T, r *rawCaller, d time.Duration) []string {
	t.Helper()
	var got []string
	deadline := time.After(d)
	for {
		select {
		case req := <-r.infos:
			digit, err := parseDTMFInfo("application/dtmf-relay", req.Body())
			if err != nil {
				t.Fatalf("INFO body %q: %v", req.Body(), err)
			}
			got = append(got, string(digit))
		case <-deadline:
			return got
		}
	}
}

// TestDTMFByInfoRefusedDropsTheRest: an INFO the far end refuses (501) drops the digits left
// (it would refuse each); digits asked for later go again.
func TestDTMFByInfoRefusedDropsTheRest(t *testing.T) {
	tp, r, id, events := callWithoutTelephoneEvent(t)
	r.infoCode.Store(501)
	if err := tp.SendDTMF(id, "123"); err != nil {
		t.Fatal(err)
	}
	if got := infosWithin(t, r, time.Second); strings.Join(got, "") != "1" {
		t.Fatalf("INFOs after a 501: %q, want the refused 1 only", got)
	}
	r.infoCode.Store(0)
	if err := tp.SendDTMF(id, "7"); err != nil {
		t.Fatal(err)
	}
	if got := infosWithin(t, r, time.Second); strings.Join(got, "") != "7" {
		t.Fatalf("INFOs asked for afterwards: %q, want 7", got)
	}
	if err := tp.Hangup(id); err != nil {
		t.Fatal(err)
	}
	waitCall(t, events, id, CallEnded)
}

// TestDTMFByInfoStopsAtHangup: digits still queued when the user hangs up are not sent, even
// while the far end takes its time over our BYE: no INFO follows our BYE.
func TestDTMFByInfoStopsAtHangup(t *testing.T) {
	tp, r, id, events := callWithoutTelephoneEvent(t)
	r.byeHold.Store(int64(1500 * time.Millisecond))
	if err := tp.SendDTMF(id, "123456789"); err != nil {
		t.Fatal(err)
	}
	if got := infosWithin(t, r, 100*time.Millisecond); len(got) != 1 {
		t.Fatalf("INFOs before the hang-up: %q, want the first", got)
	}
	if err := tp.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if got := infosWithin(t, r, time.Second); len(got) > 0 {
		t.Fatalf("INFOs after the hang-up: %q, want none", got)
	}
	waitCall(t, events, id, CallEnded)
}

// TestDTMFInfoQueuedBeforeTalk: digits queued before the call's talk loop runs (its kick not
// made yet) are found when it starts, and it is then the one sender; more digits meanwhile
// join that sender's queue.
func TestDTMFInfoQueuedBeforeTalk(t *testing.T) {
	p := &Phone{}
	c := newCall("c1", nil, Outgoing)
	if err := p.queueDTMFInfo(c, "12"); err != nil {
		t.Fatal(err)
	}
	kick, waiting := c.infoKick()
	if !waiting || !c.info.sending {
		t.Fatalf("digits queued before talk: waiting %v, sending %v; want a sender started", waiting, c.info.sending)
	}
	if err := p.queueDTMFInfo(c, "3"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-kick:
		t.Fatal("a second sender was kicked while one sends")
	default:
	}
	var got []rune
	for {
		d, ok := c.nextInfoDigit()
		if !ok {
			break
		}
		got = append(got, d)
	}
	if string(got) != "123" || c.info.sending {
		t.Fatalf("sent %q, sending %v after; want 123 and the queue given up", string(got), c.info.sending)
	}
	if err := p.queueDTMFInfo(c, "4"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-kick:
	default:
		t.Fatal("digits after the sender gave up kicked no new one")
	}
}
