package phone

import (
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestReinviteOKRetransmittedUntilACK: our 200 to the far end's re-INVITE is sent again at T1,
// 2·T1, … (RFC 3261 13.3.1.4) while no ACK comes, and no more once it has: a 200 lost on UDP
// used to leave the far end's re-INVITE unanswered until its Timer B.
func TestReinviteOKRetransmittedUntilACK(t *testing.T) {
	tp, tAddr, tEv := runPhone(t, Config{})
	r, _, _ := answeredRaw(t, tp, tAddr, tEv)
	s := r.sess.Load()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // the far end's socket for this re-INVITE
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	port := pc.LocalAddr().(*net.UDPAddr).Port
	phone, err := net.ResolveUDPAddr("udp", tAddr)
	if err != nil {
		t.Fatal(err)
	}
	inDialog := func(method sip.RequestMethod, body []byte) *sip.Request {
		req := sip.NewRequest(method, s.InviteResponse.Contact().Address)
		via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "127.0.0.1", Port: port,
			Params: sip.NewParams()}
		via.Params.Add("branch", sip.GenerateBranch())
		req.AppendHeader(via)
		req.AppendHeader(sip.HeaderClone(s.InviteRequest.From()))
		req.AppendHeader(sip.HeaderClone(s.InviteResponse.To()))
		req.AppendHeader(sip.HeaderClone(s.InviteRequest.CallID()))
		req.AppendHeader(&sip.CSeqHeader{SeqNo: s.InviteRequest.CSeq().SeqNo + 1, MethodName: method})
		req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "raw", Host: "127.0.0.1", Port: port}})
		if body != nil {
			ct := sip.ContentTypeHeader("application/sdp")
			req.AppendHeader(&ct)
		}
		req.SetBody(body)
		return req
	}
	send := func(req *sip.Request) {
		if _, err := pc.WriteTo([]byte(req.String()), phone); err != nil {
			t.Fatal(err)
		}
	}
	// oks counts the 200s to the re-INVITE that come within d.
	oks := func(d time.Duration) int {
		n := 0
		buf := make([]byte, 65535)
		deadline := time.Now().Add(d)
		for {
			_ = pc.SetReadDeadline(deadline)
			k, _, err := pc.ReadFrom(buf)
			if err != nil {
				return n
			}
			msg, err := sip.NewParser().ParseSIP(buf[:k])
			if res, ok := msg.(*sip.Response); err == nil && ok && res.StatusCode == 200 && res.CSeq().MethodName == sip.INVITE {
				n++
			}
		}
	}
	send(inDialog(sip.INVITE, s.InviteRequest.Body())) // the same session offered again
	if n := oks(1700 * time.Millisecond); n < 3 {
		t.Fatalf("%d 200s in 1.7 s without an ACK, want at least 3 (at 0, T1 and 3·T1)", n)
	}
	send(inDialog(sip.ACK, nil))
	// The next would leave at 7·T1 (3.5 s), within this window; the last one came at 3·T1.
	if n := oks(2500 * time.Millisecond); n != 0 {
		t.Fatalf("%d more 200s after the ACK", n)
	}
}
