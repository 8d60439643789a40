package phone

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// TestOutOfOrderRequestsRefused: once a call is up, a request of the far end's dialog whose
// CSeq is below one the far end sent before (a replay) is answered 500 (RFC 3261 12.2.2),
// whatever its method: INFO, UPDATE, re-INVITE, BYE. The call goes on, and the far end's next
// requests in order are taken.
func TestOutOfOrderRequestsRefused(t *testing.T) {
	a, aAddr, aEv := runPhone(t, Config{AutoAnswer: true})
	answered := answerOnIncoming(t, a, aEv, 0)
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dst, err := net.ResolveUDPAddr("udp4", aAddr)
	if err != nil {
		t.Fatal(err)
	}
	me := conn.LocalAddr().String()
	unique := time.Now().UnixNano()
	callID := fmt.Sprintf("cseq-%d@test", unique)
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
	toTag := ""
	request := func(method string, cseq int, branchOf string) string {
		to := "<sip:a@" + aAddr + ">"
		if toTag != "" {
			to += ";tag=" + toTag
		}
		body, ctype := "", ""
		switch method {
		case "INVITE":
			body, ctype = sdp, "Content-Type: application/sdp\r\n"
		case "INFO":
			body, ctype = "Signal=5\r\nDuration=160\r\n", "Content-Type: application/dtmf-relay\r\n"
		}
		if branchOf == "" {
			branchOf = method
		}
		return fmt.Sprintf("%s sip:a@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%d-%s-%d\r\n"+
			"From: <sip:caller@%s>;tag=caller\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"+
			"Contact: <sip:caller@%s>\r\nMax-Forwards: 70\r\n%sContent-Length: %d\r\n\r\n%s",
			method, aAddr, me, unique, branchOf, cseq, me, to, callID, cseq, method, me, ctype, len(body), body)
	}
	// final sends req and returns the code of its final response (by CSeq: retransmitted
	// answers to earlier requests are skipped).
	final := func(method string, cseq int) int {
		t.Helper()
		if _, err := conn.WriteTo([]byte(request(method, cseq, "")), dst); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("CSeq: %d %s", cseq, method)
		buf := make([]byte, 8192)
		for {
			if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				t.Fatalf("%s %d: no final response: %v", method, cseq, err)
			}
			msg := string(buf[:n])
			var code int
			if _, err := fmt.Sscanf(msg, "SIP/2.0 %d", &code); err != nil || code < 200 || !strings.Contains(msg, want) {
				continue
			}
			for _, line := range strings.Split(msg, "\r\n") {
				if _, tag, ok := strings.Cut(line, ";tag="); ok && toTag == "" && strings.HasPrefix(strings.ToLower(line), "to:") {
					toTag, _, _ = strings.Cut(tag, ";")
				}
			}
			if method == "INVITE" { // ACK: a 2xx's in a transaction of its own, else the INVITE's
				ackBranch := "ACK"
				if code >= 300 {
					ackBranch = "INVITE"
				}
				ack := request("ACK", cseq, ackBranch)
				if _, err := conn.WriteTo([]byte(ack), dst); err != nil {
					t.Fatal(err)
				}
			}
			return code
		}
	}
	if code := final("INVITE", 10); code != 200 {
		t.Fatalf("INVITE: %d, want 200", code)
	}
	select {
	case <-answered:
	case <-time.After(5 * time.Second):
		t.Fatal("the call was never answered")
	}
	for _, r := range []struct {
		method string
		cseq   int
		want   int
	}{
		{"INFO", 5, 500}, {"UPDATE", 6, 500}, {"INVITE", 7, 500}, {"BYE", 8, 500},
		{"INFO", 11, 200}, {"BYE", 12, 200},
	} {
		if code := final(r.method, r.cseq); code != r.want {
			t.Errorf("%s with CSeq %d after 10: %d, want %d", r.method, r.cseq, code, r.want)
		}
	}
	noCalls(t, a)
}
