package phone

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo/sip"
)

// rawAsk sends the phone at addr an out-of-dialog request of method, with hdrs, from a socket
// of its own, and returns the first final response.
func rawAsk(t *testing.T, addr string, method sip.RequestMethod, hdrs ...sip.Header) *sip.Response {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	req := rawRequest(pc, method)
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	req.SetBody(nil)
	dst, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.WriteTo([]byte(req.String()), dst); err != nil {
		t.Fatal(err)
	}
	return readFinal(t, pc, "the "+string(method))
}

// readFinal reads pc until a final response comes (5 s at most), skipping provisional ones.
func readFinal(t *testing.T, pc net.PacketConn, what string) *sip.Response {
	t.Helper()
	buf := make([]byte, 65535)
	_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no final response to %s: %v", what, err)
		}
		msg, err := sip.NewParser().ParseSIP(buf[:n])
		if res, ok := msg.(*sip.Response); err == nil && ok && res.StatusCode >= 200 {
			return res
		}
	}
}

// TestUnknownRequireIsRefused: a request that Requires an extension we do not do (100rel,
// timer) gets 420 Bad Extension naming them in Unsupported (RFC 3261 §8.2.2.3), so that the
// caller tries again without them. The INVITE went on as if they were not asked for.
func TestUnknownRequireIsRefused(t *testing.T) {
	_, addr, _ := runPhone(t, Config{})
	res := rawAsk(t, addr, sip.INVITE, sip.NewHeader("Require", "100rel"), sip.NewHeader("Require", "timer, replaces"))
	if res.StatusCode != 420 {
		t.Fatalf("INVITE requiring 100rel and timer: %d %s, want 420", res.StatusCode, res.Reason)
	}
	h := res.GetHeader("Unsupported")
	if h == nil || h.Value() != "100rel, timer" {
		t.Fatalf("Unsupported %v, want 100rel, timer (and not replaces, which we do)", h)
	}
	if res := rawAsk(t, addr, sip.OPTIONS, sip.NewHeader("Require", "norefersub")); res.StatusCode != 200 {
		t.Fatalf("OPTIONS requiring what we do: %d, want 200", res.StatusCode)
	}
}

// TestStrayCancelGets481: a CANCEL that matches no transaction gets 481 (RFC 3261 §9.2), not
// sipgo's 405 for a method nobody handles, which our Allow header contradicts.
func TestStrayCancelGets481(t *testing.T) {
	_, addr, _ := runPhone(t, Config{})
	if res := rawAsk(t, addr, sip.CANCEL); res.StatusCode != 481 {
		t.Fatalf("stray CANCEL: %d %s, want 481", res.StatusCode, res.Reason)
	}
	if !strings.Contains(allowMethods, "CANCEL") {
		t.Fatal("CANCEL is not in Allow")
	}
}

// TestMergedInviteGets482: the same INVITE (Call-ID, From tag, CSeq) arriving again by another
// path while the first rings (a forking proxy holding two bindings of ours, a stale one beside
// the current) gets 482 Loop Detected (RFC 3261 §8.2.2.2). It rang as a second call from the
// same caller, and as call waiting once the first was answered.
func TestMergedInviteGets482(t *testing.T) {
	p, addr, events := runPhone(t, Config{})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	local := pc.LocalAddr().(*net.UDPAddr)
	offer, err := sdp.Offer(sdp.Local{Addr: "127.0.0.1", Port: 9, Codecs: []string{"PCMU"}})
	if err != nil {
		t.Fatal(err)
	}
	tag, callID := sip.GenerateTagN(8), sip.CallIDHeader(sip.GenerateTagN(16))
	invite := func() *sip.Request { // the same request each time, but for the branch: another path
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1"})
		via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "127.0.0.1", Port: local.Port, Params: sip.NewParams()}
		via.Params.Add("branch", sip.GenerateBranch())
		req.AppendHeader(via)
		from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "raw", Host: "127.0.0.1"}, Params: sip.NewParams()}
		from.Params.Add("tag", tag)
		req.AppendHeader(from)
		req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1"}})
		req.AppendHeader(&callID)
		req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
		req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "raw", Host: "127.0.0.1", Port: local.Port}})
		ct := sip.ContentTypeHeader("application/sdp")
		req.AppendHeader(&ct)
		req.SetBody(offer)
		return req
	}
	dst, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	firstReq := invite()
	if _, err := pc.WriteTo([]byte(firstReq.String()), dst); err != nil {
		t.Fatal(err)
	}
	first := waitCall(t, events, "", CallIncoming)
	if _, err := pc.WriteTo([]byte(invite().String()), dst); err != nil {
		t.Fatal(err)
	}
	if res := readFinal(t, pc, "the INVITE's second copy"); res.StatusCode != 482 {
		t.Fatalf("the second copy: %d %s, want 482", res.StatusCode, res.Reason)
	}
	// The first copy still rings: turned down now, and its 486 acknowledged, so the phone
	// stops at once at the test's end.
	if err := p.Reject(first.ID, 486); err != nil {
		t.Fatalf("the first copy no longer rings: %v", err)
	}
	res := readFinal(t, pc, "the first copy")
	for res.StatusCode == 482 { // the second copy's 482 again: it was not acknowledged
		res = readFinal(t, pc, "the first copy")
	}
	if res.StatusCode != 486 {
		t.Fatalf("the first copy: %d %s, want 486", res.StatusCode, res.Reason)
	}
	ack := sip.NewRequest(sip.ACK, firstReq.Recipient)
	ack.AppendHeader(sip.HeaderClone(firstReq.Via()))
	ack.AppendHeader(sip.HeaderClone(firstReq.From()))
	ack.AppendHeader(sip.HeaderClone(res.To()))
	ack.AppendHeader(&callID)
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.ACK})
	ack.SetBody(nil)
	if _, err := pc.WriteTo([]byte(ack.String()), dst); err != nil {
		t.Fatal(err)
	}
}
