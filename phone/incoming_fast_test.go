package phone

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// answerOnIncoming answers every incoming call of p at once after delay, the way
// `dialtone answer --auto` does, until the test ends.
func answerOnIncoming(t *testing.T, p *Phone, events <-chan Event, delay time.Duration) <-chan CallStatus {
	t.Helper()
	answered := make(chan CallStatus, 8)
	done := make(chan struct{})
	stopped := make(chan struct{})
	t.Cleanup(func() { close(done); <-stopped })
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			case ev := <-events:
				s, ok := ev.(CallStatus)
				if !ok {
					continue
				}
				switch s.State {
				case CallIncoming:
					time.Sleep(delay)
					if err := p.Answer(s.ID, CallAudio{}); err != nil {
						t.Errorf("answer %s: %v", s.ID, err)
					}
				case CallAnswered:
					select {
					case answered <- s:
					default:
					}
				}
			}
		}
	}()
	return answered
}

// responsesTo sends one INVITE with a G.711 offer from a bare UDP socket to addr and returns
// the status codes of the responses it gets, in order, up to the final one, and the RTP port
// of a 2xx's SDP answer; it then ACKs the 2xx and hangs up with BYE (reading the BYE's 200),
// or ACKs a rejection, so the call ends cleanly.
func responsesTo(t testing.TB, addr string) (codes []int, rtpPort int) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dst, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	me := conn.LocalAddr().String()
	// Each call its own branch: a caller port reused within a transaction's lifetime (32 s)
	// would otherwise make the INVITE look like a retransmission.
	unique := time.Now().UnixNano()
	callID := fmt.Sprintf("fast-%d@test", unique)
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
	request := func(method string, cseq int, toTag string) string {
		to := "<sip:a@" + addr + ">"
		if toTag != "" {
			to += ";tag=" + toTag
		}
		body, ctype := "", ""
		if method == "INVITE" {
			body, ctype = sdp, "Content-Type: application/sdp\r\n"
		}
		return fmt.Sprintf("%s sip:a@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%d-%s-%d\r\n"+
			"From: <sip:caller@%s>;tag=caller\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"+
			"Contact: <sip:caller@%s>\r\nMax-Forwards: 70\r\n%sContent-Length: %d\r\n\r\n%s",
			method, addr, me, unique, method, cseq, me, to, callID, cseq, method, me, ctype, len(body), body)
	}
	send := func(msg string) {
		if _, err := conn.WriteTo([]byte(msg), dst); err != nil {
			t.Fatal(err)
		}
	}
	read := func() (code int, toTag string, port int) {
		buf := make([]byte, 8192)
		if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no response (responses so far %v): %v", codes, err)
		}
		msg := string(buf[:n])
		if _, err := fmt.Sscanf(msg, "SIP/2.0 %d", &code); err != nil {
			t.Fatalf("not a response: %q", msg)
		}
		for _, line := range strings.Split(msg, "\r\n") {
			if strings.HasPrefix(strings.ToLower(line), "to:") {
				if _, tag, ok := strings.Cut(line, ";tag="); ok {
					toTag, _, _ = strings.Cut(tag, ";")
				}
			}
			if m, ok := strings.CutPrefix(line, "m=audio "); ok {
				_, _ = fmt.Sscanf(m, "%d", &port)
			}
		}
		return code, toTag, port
	}
	send(request("INVITE", 1, ""))
	for {
		code, tag, port := read()
		codes = append(codes, code)
		if code < 200 {
			continue
		}
		if code >= 300 { // the ACK of a non-2xx is the INVITE transaction's (same branch)
			send(strings.Replace(request("ACK", 1, tag), "-ACK-1\r\n", "-INVITE-1\r\n", 1))
		}
		if code < 300 {
			send(request("ACK", 1, tag))
			send(request("BYE", 2, tag))
			for { // the BYE's 200, after any 200 to the INVITE retransmitted before our ACK
				if bye, _, p := read(); bye == 200 && p == 0 {
					break
				}
			}
		}
		return codes, port
	}
}

// TestAutoAnswerSendsNoRinging: a phone whose front end answers at once (Config.AutoAnswer)
// sends its 200 OK with no 180 Ringing before it, and the next call takes the RTP ports bound
// ahead for it; the media of such a call flows.
func TestAutoAnswerSendsNoRinging(t *testing.T) {
	a, aAddr, aEv := runPhone(t, Config{AutoAnswer: true, Parallel: true})
	answered := answerOnIncoming(t, a, aEv, 0)
	for i := range 2 {
		spare := 0 // the RTP port bound ahead for this call, once the first call made one
		if i > 0 {
			spare = spareRTPPort(t, a)
		}
		codes, port := responsesTo(t, aAddr)
		if !slices.Equal(codes, []int{200}) {
			t.Fatalf("call %d: responses %v, want only 200", i, codes)
		}
		if spare != 0 && port != spare {
			t.Errorf("call %d: SDP answer has RTP port %d, want the one bound ahead, %d", i, port, spare)
		}
		select {
		case <-answered:
		case <-time.After(5 * time.Second):
			t.Fatal("the answering side never published the call as answered")
		}
		noCalls(t, a)
	}
	// The media of an automatically answered call: a real caller, and RTP both ways.
	b, _, bEv := runPhone(t, Config{})
	id, err := b.Dial("", "sip:a@"+aAddr, CallAudio{}, DialOptions{RingTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitCall(t, bEv, id, CallAnswered)
	var ours CallStatus
	select {
	case ours = <-answered:
	case <-time.After(5 * time.Second):
		t.Fatal("the answering side never published the call as answered")
	}
	flowing(t, a, ours.ID, true, "the answered call")
	flowing(t, b, id, true, "the caller's call")
	if err := b.Hangup(id); err != nil {
		t.Fatal(err)
	}
	waitCall(t, bEv, id, CallEnded)
	noCalls(t, a)
}

// TestAutoAnswerRingsWhenTheAnswerIsSlow: an automatic answer that takes longer than the grace
// still gets a 180 Ringing out first, so the caller knows the call arrived.
func TestAutoAnswerRingsWhenTheAnswerIsSlow(t *testing.T) {
	a, aAddr, aEv := runPhone(t, Config{AutoAnswer: true})
	answerOnIncoming(t, a, aEv, 3*ringingGrace)
	if codes, _ := responsesTo(t, aAddr); !slices.Equal(codes, []int{180, 200}) {
		t.Fatalf("responses %v, want 180 then 200", codes)
	}
	noCalls(t, a)
}

// TestPersonsPhoneRingsFirst: without AutoAnswer the 180 goes out before anyone can answer,
// however quickly the front end answers.
func TestPersonsPhoneRingsFirst(t *testing.T) {
	a, aAddr, aEv := runPhone(t, Config{})
	answerOnIncoming(t, a, aEv, 0)
	if codes, _ := responsesTo(t, aAddr); !slices.Equal(codes, []int{180, 200}) {
		t.Fatalf("responses %v, want 180 then 200", codes)
	}
	noCalls(t, a)
}

// noCalls waits (bounded) until p has no call: the caller's BYE is answered a moment before
// the phone ends the call, and a phone stopped in that moment would hang up itself with a
// BYE nobody answers.
func noCalls(t *testing.T, p *Phone) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); len(p.Calls()) > 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("calls still up after the caller hung up: %+v", p.Calls())
		}
	}
}

// spareRTPPort waits (bounded) for p's stack to hold a media session bound ahead and
// returns its RTP port.
func spareRTPPort(t *testing.T, p *Phone) int {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		p.mu.Lock()
		stk := p.stk
		p.mu.Unlock()
		if stk == nil {
			continue
		}
		stk.spare.mu.Lock()
		ms := stk.spare.ms
		stk.spare.mu.Unlock()
		if ms != nil {
			return int(ms.LocalAddr().Port())
		}
	}
	t.Fatal("no RTP ports bound ahead for the next call")
	return 0
}
