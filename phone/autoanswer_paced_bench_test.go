package phone

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// pacedGap is the pause between calls of the paced benchmarks: BenchmarkAnswerTurnaround's
// sipp calls at 20 calls/s, so the answering process is idle (its threads asleep) when each
// INVITE comes, unlike BenchmarkAutoAnswerCall's back-to-back calls.
const pacedGap = 50 * time.Millisecond

// BenchmarkAutoAnswerPaced: INVITE → 200 OK of a phone that answers itself, as its caller
// sees it, with calls pacedGap apart; next to it (BenchmarkBareSipgoPaced) a bare sipgo UAS
// in the same process, for the ratio BenchmarkAnswerTurnaround reports. For -trace: the
// handoffs between goroutines (and the OS thread wake-ups they cost) before the 200.
func BenchmarkAutoAnswerPaced(b *testing.B) {
	p := startAutoAnswerer(b)
	pacedCalls(b, p.SIPAddr())
}

// BenchmarkBareSipgoPaced is BenchmarkAutoAnswerPaced against the least a sipgo UAS does
// (bench/cmd/bareuas): a fixed 200 OK at once.
func BenchmarkBareSipgoPaced(b *testing.B) {
	ua, err := sipgo.NewUA()
	if err != nil {
		b.Fatal(err)
	}
	defer ua.Close()
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
			"m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n"
		res := sip.NewResponseFromRequest(req, 200, "OK", []byte(sdp))
		res.AppendHeader(sip.NewHeader("Contact", "<sip:bare@"+req.Destination()+">"))
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		_ = tx.Respond(res)
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.ServeUDP(conn) }()
	defer func() { conn.Close(); <-served; srv.Close() }()
	addr := conn.LocalAddr().String()
	if err := waitForListener(context.Background(), ua.TransportLayer(), addr); err != nil {
		b.Fatal(err)
	}
	pacedCalls(b, addr)
}

// pacedCalls places b.N calls to addr, pacedGap apart, and reports the median and p25 of
// INVITE → 200 OK as the caller sees it.
func pacedCalls(b *testing.B, addr string) {
	var d []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		time.Sleep(pacedGap)
		b.StartTimer()
		t, err := timedCall(addr)
		if err != nil {
			b.Fatal(err)
		}
		d = append(d, t)
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/4].Microseconds()), "p25-µs")
	b.ReportMetric(float64(d[len(d)/2].Microseconds()), "median-µs")
	b.ReportMetric(float64(d[len(d)*9/10].Microseconds()), "p90-µs")
}

// timedCall is one call from a bare UDP socket: INVITE, the 200 (timed from the INVITE's
// send), ACK, BYE and its 200.
func timedCall(addr string) (time.Duration, error) {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	dst, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return 0, err
	}
	me := conn.LocalAddr().String()
	unique := time.Now().UnixNano()
	callID := fmt.Sprintf("paced-%d@bench", unique)
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=ptime:20\r\na=sendrecv\r\n"
	request := func(method string, cseq int, toTag string) []byte {
		to := "<sip:a@" + addr + ">"
		if toTag != "" {
			to += ";tag=" + toTag
		}
		body, ctype := "", ""
		if method == "INVITE" {
			body, ctype = sdp, "Content-Type: application/sdp\r\n"
		}
		return fmt.Appendf(nil, "%s sip:a@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%d-%s-%d\r\n"+
			"From: <sip:caller@%s>;tag=caller\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"+
			"Contact: <sip:caller@%s>\r\nMax-Forwards: 70\r\n%sContent-Length: %d\r\n\r\n%s",
			method, addr, me, unique, method, cseq, me, to, callID, cseq, method, me, ctype, len(body), body)
	}
	buf := make([]byte, 8192)
	var last string // the last response read
	read := func() (int, string, error) {
		if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			return 0, "", err
		}
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			return 0, "", fmt.Errorf("no response: %w", err)
		}
		msg := string(buf[:n])
		last = msg
		var code int
		if _, err := fmt.Sscanf(msg, "SIP/2.0 %d", &code); err != nil {
			return 0, "", fmt.Errorf("not a response: %q", msg)
		}
		var tag string
		for line := range strings.SplitSeq(msg, "\r\n") {
			if strings.HasPrefix(strings.ToLower(line), "to:") {
				if _, t, ok := strings.Cut(line, ";tag="); ok {
					tag, _, _ = strings.Cut(t, ";")
				}
			}
		}
		return code, tag, nil
	}
	start := time.Now()
	if _, err := conn.WriteTo(request("INVITE", 1, ""), dst); err != nil {
		return 0, err
	}
	code, tag, err := read()
	took := time.Since(start)
	if err != nil {
		return 0, err
	}
	if code != 200 {
		return 0, fmt.Errorf("INVITE answered %d, want 200 at once", code)
	}
	for _, m := range [][]byte{request("ACK", 1, tag), request("BYE", 2, tag)} {
		if _, err := conn.WriteTo(m, dst); err != nil {
			return 0, err
		}
	}
	for range 5 { // the BYE's response, after any 200 to the INVITE retransmitted before our ACK
		if _, _, err := read(); err != nil {
			return 0, err
		}
		if strings.Contains(last, " BYE\r\n") {
			return took, nil
		}
	}
	return 0, fmt.Errorf("no response to BYE")
}
