package phone

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo/sip"
)

const testSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"

// sipI is a SIP-I carrier's multipart body: SDP beside an ISUP IAM (RFC 3204).
const sipI = "--b1\r\nContent-Type: application/sdp\r\n\r\n" + testSDP + "\r\n--b1\r\n" +
	"Content-Type: application/isup; version=itu-t92+\r\nContent-Disposition: signal; handling=optional\r\n\r\n\x01\x00\x49\x00\r\n--b1--\r\n"

func TestSDPBody(t *testing.T) {
	pidfFirst := "--xyz\r\nContent-Type: application/pidf+xml\r\n\r\n<presence/>\r\n--xyz\r\nContent-Type: application/sdp\r\n\r\n" + testSDP + "\r\n--xyz--\r\n"
	for _, c := range []struct {
		name, ct, body, want string
		notSDP               bool
	}{
		{"sdp", "application/sdp", testSDP, testSDP, false},
		{"no type", "", testSDP, testSDP, false},
		{"empty", "application/sdp", "", "", false},
		{"SIP-I multipart", `multipart/mixed; boundary=b1`, sipI, testSDP, false},
		{"location first", `multipart/mixed;boundary="xyz"`, pidfFirst, testSDP, false},
		{"multipart without SDP", `multipart/mixed; boundary=b1`, "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--\r\n", "", true},
		{"text", "text/plain", "hello", "", true},
		{"bad type", "a//b;;", "x", "", true},
	} {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", Host: "127.0.0.1"})
		if c.ct != "" {
			ct := sip.ContentTypeHeader(c.ct)
			req.AppendHeader(&ct)
		}
		req.SetBody([]byte(c.body))
		got, err := sdpBody(req)
		if errors.Is(err, errNotSDP) != c.notSDP || string(got) != c.want {
			t.Errorf("%s: %q, %v; want %q (not SDP: %v)", c.name, got, err, c.want, c.notSDP)
		}
	}
}

// TestMultipartOfferRings: an INVITE whose body is SDP beside an ISUP message (SIP-I) rings,
// and one whose body is not SDP at all gets 415 with Accept. Both got 488: the whole body was
// read as SDP.
func TestMultipartOfferRings(t *testing.T) {
	p, addr, events := runPhone(t, Config{})
	offer, err := sdp.Offer(sdp.Local{Addr: "127.0.0.1", Port: 9, Codecs: []string{"PCMU"}})
	if err != nil {
		t.Fatal(err)
	}
	body := "--b1\r\nContent-Type: application/sdp\r\n\r\n" + string(offer) + "\r\n--b1\r\n" +
		"Content-Type: application/isup; version=itu-t92+\r\n\r\n\x01\x00\x49\x00\r\n--b1--\r\n"
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	inv := rawInvite(pc, "multipart/mixed; boundary=b1", []byte(body))
	dst, _ := net.ResolveUDPAddr("udp", addr)
	if _, err := pc.WriteTo([]byte(inv.String()), dst); err != nil {
		t.Fatal(err)
	}
	in := waitCall(t, events, "", CallIncoming)
	if err := p.Reject(in.ID, 486); err != nil {
		t.Fatal(err)
	}
	if res := readFinal(t, pc, "the multipart INVITE"); res.StatusCode != 486 {
		t.Fatalf("the multipart INVITE: %d, want the 486 of our rejection", res.StatusCode)
	}
	ack := sip.NewRequest(sip.ACK, inv.Recipient)
	for _, h := range []sip.Header{inv.Via(), inv.From(), inv.CallID()} {
		ack.AppendHeader(sip.HeaderClone(h))
	}
	ack.AppendHeader(&sip.ToHeader{Address: inv.To().Address, Params: sip.NewParams()})
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.ACK})
	ack.SetBody(nil)
	_, _ = pc.WriteTo([]byte(ack.String()), dst)

	if _, err := pc.WriteTo([]byte(rawInvite(pc, "text/plain", []byte("hello")).String()), dst); err != nil {
		t.Fatal(err)
	}
	res := readFinal(t, pc, "an INVITE with a text body")
	if res.StatusCode != 415 || res.GetHeader("Accept") == nil {
		t.Fatalf("an INVITE with a text body: %d %s, want 415 with Accept", res.StatusCode, res.Reason)
	}
}

func contentType(v string) sip.Header {
	ct := sip.ContentTypeHeader(v)
	return &ct
}

// rawInvite is an out-of-dialog INVITE from pc's address with body of type ct.
func rawInvite(pc net.PacketConn, ct string, body []byte) *sip.Request {
	req := rawRequest(pc, sip.INVITE)
	req.AppendHeader(contentType(ct))
	req.SetBody(body)
	return req
}

// rawRequest is an out-of-dialog request of method from pc's address, to bob at 127.0.0.1.
func rawRequest(pc net.PacketConn, method sip.RequestMethod) *sip.Request {
	local := pc.LocalAddr().(*net.UDPAddr)
	req := sip.NewRequest(method, sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1"})
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "127.0.0.1", Port: local.Port, Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	req.AppendHeader(via)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "raw", Host: "127.0.0.1"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1"}})
	callID := sip.CallIDHeader(sip.GenerateTagN(16))
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: method})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "raw", Host: "127.0.0.1", Port: local.Port}})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	return req
}

// TestMultipartAnswerIsTaken: a carrier's 200 whose SDP answer is a multipart body's part
// (SIP-I: beside an ISUP ANM) answers the call. The whole body was read as SDP: the answer was
// refused, acknowledged and hung up.
func TestMultipartAnswerIsTaken(t *testing.T) {
	srv := newLateServer(t)
	caller, events, id := dialLate(t, srv)
	o, err := sdp.ParseOffer(srv.invite.Body())
	if err != nil {
		t.Fatal(err)
	}
	answer, _, err := o.Answer(sdp.Local{Addr: "127.0.0.1", Port: 9, Codecs: supportedCodecs(), DTMF: true})
	if err != nil {
		t.Fatal(err)
	}
	body := "--b1\r\nContent-Type: application/sdp\r\n\r\n" + string(answer) + "\r\n--b1\r\n" +
		"Content-Type: application/isup; version=itu-t92+\r\n\r\n\x09\x01\x00\r\n--b1--\r\n"
	res := sip.NewResponseFromRequest(srv.invite, 200, "OK", []byte(body))
	res.To().Params.Add("tag", "callee1")
	local := srv.pc.LocalAddr().(*net.UDPAddr)
	res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "x", Host: local.IP.String(), Port: local.Port}})
	res.AppendHeader(contentType("multipart/mixed; boundary=b1"))
	if _, err := srv.pc.WriteTo([]byte(res.String()), srv.from); err != nil {
		t.Fatal(err)
	}
	srv.readMethod(sip.ACK, 5*time.Second)
	waitCall(t, events, id, CallAnswered)
	if err := caller.Hangup(id); err != nil {
		t.Fatal(err)
	}
	srv.respond(srv.readMethod(sip.BYE, 5*time.Second), 200, "OK")
}
