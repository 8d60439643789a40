package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"time"
)

// uac is a minimal SIP user agent client over UDP on loopback: the jitter bench's sender
// needs to own the RTP timing (every packet's departure is the impairment), so it places the
// call itself instead of going through a phone. Just INVITE/ACK/BYE to a UA that answers 200.
type uac struct {
	conn    *net.UDPConn
	target  *net.UDPAddr // the callee's SIP address
	ruri    string
	callID  string
	fromTag string
	toHdr   string // To of the 200 OK, with the callee's tag
	contact string // the callee's Contact URI (ACK and BYE go there)
	rtp     *net.UDPConn
	rtpDst  *net.UDPAddr // from the answer's SDP
}

// dialUAC sends an INVITE offering PCMU from a fresh local RTP socket and returns once the
// call is answered and acknowledged.
func dialUAC(ctx context.Context, ruri string, target *net.UDPAddr) (*uac, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("sip socket: %w", err)
	}
	rtp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("rtp socket: %w", err)
	}
	u := &uac{conn: conn, target: target, ruri: ruri, rtp: rtp,
		callID: fmt.Sprintf("%x@127.0.0.1", rand.Uint64()), fromTag: fmt.Sprintf("%x", rand.Uint32())}
	if err := u.invite(ctx); err != nil {
		u.close()
		return nil, fmt.Errorf("invite %s: %w", ruri, err)
	}
	return u, nil
}

func (u *uac) local() string { return u.conn.LocalAddr().String() }

func (u *uac) headers(method string, cseq int, to string) string {
	return fmt.Sprintf("Via: SIP/2.0/UDP %s;branch=z9hG4bK%x;rport\r\nMax-Forwards: 70\r\n"+
		"From: <sip:bench@%s>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"+
		"Contact: <sip:bench@%s>\r\nUser-Agent: dialtone-bench\r\n",
		u.local(), rand.Uint64(), u.local(), u.fromTag, to, u.callID, cseq, method, u.local())
}

func (u *uac) invite(ctx context.Context) error {
	port := u.rtp.LocalAddr().(*net.UDPAddr).Port
	sdp := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n", port)
	msg := fmt.Sprintf("INVITE %s SIP/2.0\r\n%sContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		u.ruri, u.headers("INVITE", 1, "<"+u.ruri+">"), len(sdp), sdp)
	resp, err := u.transact(ctx, msg, "INVITE")
	if err != nil {
		return err
	}
	if code := sipStatus(resp); code != 200 {
		return fmt.Errorf("answered %d", code)
	}
	u.toHdr = sipHeader(resp, "To")
	u.contact = strings.Trim(strings.SplitN(sipHeader(resp, "Contact"), ";", 2)[0], "<> ")
	if i := strings.Index(u.contact, "<"); i >= 0 {
		u.contact = strings.Trim(u.contact[i:], "<>")
	}
	if u.contact == "" {
		u.contact = u.ruri
	}
	if u.rtpDst, err = sdpAudio(resp); err != nil {
		return err
	}
	ack := fmt.Sprintf("ACK %s SIP/2.0\r\n%sContent-Length: 0\r\n\r\n", u.contact, u.headers("ACK", 1, u.toHdr))
	_, err = u.conn.WriteToUDP([]byte(ack), u.target)
	return err
}

// bye ends the call; the callee's 200 is awaited so its recording is closed.
func (u *uac) bye(ctx context.Context) error {
	msg := fmt.Sprintf("BYE %s SIP/2.0\r\n%sContent-Length: 0\r\n\r\n", u.contact, u.headers("BYE", 2, u.toHdr))
	_, err := u.transact(ctx, msg, "BYE")
	return err
}

func (u *uac) close() {
	u.conn.Close()
	u.rtp.Close()
}

// transact sends msg (retransmitting every 500 ms) until a final response to method comes.
// Requests from the callee (a re-sent 200 is a response; an OPTIONS or BYE would be a
// request) are ignored: the bench's calls are short and one-sided.
func (u *uac) transact(ctx context.Context, msg, method string) (string, error) {
	buf := make([]byte, 65536)
	next := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		if !time.Now().Before(next) {
			if _, err := u.conn.WriteToUDP([]byte(msg), u.target); err != nil {
				return "", err
			}
			next = time.Now().Add(500 * time.Millisecond)
		}
		u.conn.SetReadDeadline(next)
		n, _, err := u.conn.ReadFromUDP(buf)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return "", err
		}
		resp := string(buf[:n])
		if !strings.HasPrefix(resp, "SIP/2.0 ") || !strings.HasSuffix(sipHeader(resp, "CSeq"), method) {
			continue
		}
		if sipStatus(resp) >= 200 {
			return resp, nil
		}
	}
}

func sipStatus(resp string) int {
	f := strings.Fields(resp)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// header is the first value of a header (long form only; the callees here use it).
func sipHeader(msg, name string) string {
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	for _, line := range strings.Split(head, "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// sdpAudio is the RTP address of the answer's audio stream.
func sdpAudio(resp string) (*net.UDPAddr, error) {
	_, body, _ := strings.Cut(resp, "\r\n\r\n")
	ip, port := "", 0
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "c=IN IP4 "); ok {
			ip = strings.Fields(v)[0]
		}
		if v, ok := strings.CutPrefix(line, "m=audio "); ok {
			port, _ = strconv.Atoi(strings.Fields(v)[0])
		}
	}
	if ip == "" || port == 0 {
		return nil, fmt.Errorf("no audio address in answer SDP: %q", body)
	}
	return &net.UDPAddr{IP: net.ParseIP(ip), Port: port}, nil
}
