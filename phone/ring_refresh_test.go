package phone

import (
	"net"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo/sip"
)

// TestRingingIsRefreshedEveryMinute: a call that rings unanswered sends its 180 again every
// minute (RFC 3261 §13.3.1.1), in the same early dialog (To tag), so that a lost 180 is made
// good and a proxy does not cancel a call that is still ringing. It sent one 180 only.
func TestRingingIsRefreshedEveryMinute(t *testing.T) {
	clock := newFakeClock()
	_, addr, events := runPhone(t, Config{}, WithClock(clock))

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	offer, err := sdp.Offer(sdp.Local{Addr: "127.0.0.1", Port: 9, Codecs: []string{"PCMU"}})
	if err != nil {
		t.Fatal(err)
	}
	req := rawRequest(pc, sip.INVITE)
	ct := sip.ContentTypeHeader("application/sdp")
	req.AppendHeader(&ct)
	req.SetBody(offer)
	dst, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.WriteTo([]byte(req.String()), dst); err != nil {
		t.Fatal(err)
	}
	waitCall(t, events, "", CallIncoming)
	first := readRinging(t, pc)
	tag, _ := first.To().Params.Get("tag")
	if again := ringingWithin(pc, time.Second); again != nil {
		t.Fatalf("a second 180 before any time passed: %s", again.StartLine())
	}
	clock.Advance(ringRefresh - time.Millisecond)
	if again := ringingWithin(pc, time.Second); again != nil {
		t.Fatalf("a second 180 before the minute: %s", again.StartLine())
	}
	for i := range 3 {
		var again *sip.Response
		// The phone arms its timer once the 180 is out, so the minute may have to pass again.
		for range 20 {
			clock.Advance(ringRefresh)
			if again = ringingWithin(pc, 100*time.Millisecond); again != nil {
				break
			}
		}
		if again == nil {
			t.Fatalf("no 180 number %d after 20 minutes", i+2)
		}
		if got, _ := again.To().Params.Get("tag"); got != tag || tag == "" {
			t.Fatalf("180 number %d has To tag %q, the first %q", i+2, got, tag)
		}
	}
	// The caller gives up: CANCEL, and the 487's ACK, so that the phone stops at once.
	if _, err := pc.WriteTo([]byte(sameTransaction(req, sip.CANCEL, req.To()).String()), dst); err != nil {
		t.Fatal(err)
	}
	res := readFinalFor(t, pc, sip.INVITE)
	if res.StatusCode != 487 {
		t.Fatalf("the INVITE ended %d, want 487", res.StatusCode)
	}
	if _, err := pc.WriteTo([]byte(sameTransaction(req, sip.ACK, res.To()).String()), dst); err != nil {
		t.Fatal(err)
	}
}

// sameTransaction is the CANCEL of INVITE req, or the ACK of its failure response (whose To
// is to): the INVITE's Via, From, Call-ID and CSeq number (RFC 3261 §9.1, §17.1.1.3).
func sameTransaction(req *sip.Request, method sip.RequestMethod, to *sip.ToHeader) *sip.Request {
	out := sip.NewRequest(method, req.Recipient)
	for _, h := range []string{"Via", "From", "Call-ID"} {
		sip.CopyHeaders(h, req, out)
	}
	out.AppendHeader(to)
	out.AppendHeader(&sip.CSeqHeader{SeqNo: req.CSeq().SeqNo, MethodName: method})
	out.SetBody(nil)
	return out
}

// readFinalFor reads pc until a final response to a request of method comes (5 s at most).
func readFinalFor(t *testing.T, pc net.PacketConn, method sip.RequestMethod) *sip.Response {
	t.Helper()
	for {
		res := readFinal(t, pc, string(method))
		if res.CSeq().MethodName == method {
			return res
		}
	}
}

// readRinging reads pc until a 180 comes (5 s at most).
func readRinging(t *testing.T, pc net.PacketConn) *sip.Response {
	t.Helper()
	res := ringingWithin(pc, 5*time.Second)
	if res == nil {
		t.Fatal("no 180 Ringing")
	}
	return res
}

// ringingWithin reads pc until a 180 comes, nil after wait.
func ringingWithin(pc net.PacketConn, wait time.Duration) *sip.Response {
	buf := make([]byte, 65535)
	_ = pc.SetReadDeadline(time.Now().Add(wait))
	for {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			return nil
		}
		msg, err := sip.NewParser().ParseSIP(buf[:n])
		if res, ok := msg.(*sip.Response); err == nil && ok && res.StatusCode == 180 {
			return res
		}
	}
}
