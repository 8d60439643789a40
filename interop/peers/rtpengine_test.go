package peers

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestBencodeRoundTrip: what bencode writes, bdecode reads back (keys sorted, lists kept).
func TestBencodeRoundTrip(t *testing.T) {
	in := map[string]any{
		"command": "offer", "flags": []any{"trust-address", "b"}, "n": int64(-42),
		"nested": map[string]any{"empty": "", "x": []any{}},
	}
	enc := bencode(map[string]any{
		"command": "offer", "flags": []string{"trust-address", "b"}, "n": -42,
		"nested": map[string]any{"empty": "", "x": []any{}},
	})
	if want := "d7:command5:offer5:flagsl13:trust-address1:be1:ni-42e6:nestedd5:empty0:1:xleee"; string(enc) != want {
		t.Fatalf("bencode: %s, want %s", enc, want)
	}
	got, err := bdecode(enc)
	if err != nil {
		t.Fatal(err)
	}
	// An empty list decodes to a nil []any.
	in["nested"].(map[string]any)["x"] = []any(nil)
	if !reflect.DeepEqual(got, in) {
		t.Fatalf("bdecode(bencode(v)) = %#v, want %#v", got, in)
	}
	for _, bad := range []string{"", "i12", "d3:abc", "l", "5:ab", "-1:", "di1ei2ee", "i1ex", "x"} {
		if v, err := bdecode([]byte(bad)); err == nil {
			t.Errorf("bdecode(%q) = %#v, want an error", bad, v)
		}
	}
}

// FuzzBdecode: rtpengine's replies are parsed by bdecode; no input panics or hangs it, and
// whatever it accepts survives an encode/decode round trip unchanged.
func FuzzBdecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := bdecode(b)
		if err != nil {
			return
		}
		again, err := bdecode(bencode(v))
		if err != nil || !reflect.DeepEqual(again, v) {
			t.Fatalf("bdecode(%q) = %#v; encoded and decoded again: %#v, %v", b, v, again, err)
		}
	})
}

// sdpOffer is a minimal PCMU audio offer or answer from ip:port.
func sdpOffer(ip string, port int) string {
	return "v=0\r\n" +
		"o=- 1 1 IN IP4 " + ip + "\r\n" +
		"s=-\r\n" +
		"c=IN IP4 " + ip + "\r\n" +
		"t=0 0\r\n" +
		"m=audio " + strconv.Itoa(port) + " RTP/AVP 0\r\n" +
		"a=rtpmap:0 PCMU/8000\r\n" +
		"a=sendrecv\r\n"
}

// sdpMedia returns the c= address and the m=audio port of sdp.
func sdpMedia(t *testing.T, sdp string) (string, int) {
	t.Helper()
	ip, port := "", 0
	for _, line := range strings.Split(sdp, "\n") {
		line = strings.TrimSpace(line)
		if s, ok := strings.CutPrefix(line, "c=IN IP4 "); ok {
			ip = s
		}
		if s, ok := strings.CutPrefix(line, "m=audio "); ok {
			port, _ = strconv.Atoi(strings.Fields(s)[0])
		}
	}
	if ip == "" || port == 0 {
		t.Fatalf("no c= address or m=audio port in\n%s", sdp)
	}
	return ip, port
}

// TestRTPEngineRelay: a real offer/answer through rtpengine's ng protocol. Each side's SDP
// comes back pointing at rtpengine (its own interface, 127.0.0.2, not the parties' 127.0.0.1),
// RTP sent to the relay ports arrives at the other party from the relay both ways, the call's
// counters say so, and a deleted call and a stopped rtpengine leave nothing behind.
func TestRTPEngineRelay(t *testing.T) {
	const minPort, maxPort = 41000, 41999
	r := StartRTPEngine(t, RTPEngineOptions{IP: "127.0.0.2", PortMin: minPort, PortMax: maxPort})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	a, b := listenUDP(t), listenUDP(t)
	aPort, bPort := a.LocalAddr().(*net.UDPAddr).Port, b.LocalAddr().(*net.UDPAddr).Port
	callID, fromTag, toTag := "relay-test-"+strconv.FormatInt(time.Now().UnixNano(), 36), "ftag", "ttag"

	offer, err := r.Offer(ctx, callID, fromTag, sdpOffer("127.0.0.1", aPort))
	if err != nil {
		t.Fatalf("offer: %v\n%s", err, r.Log())
	}
	toB := relayAddr(t, offer, aPort, minPort, maxPort) // where b sends, what b was offered
	answer, err := r.Answer(ctx, callID, fromTag, toTag, sdpOffer("127.0.0.1", bPort))
	if err != nil {
		t.Fatalf("answer: %v\n%s", err, r.Log())
	}
	toA := relayAddr(t, answer, bPort, minPort, maxPort) // where a sends
	if toA == toB {
		t.Fatalf("the same relay port %v for both parties", toA)
	}

	// A few packets each way: rtpengine relays RTP in userspace to the SDP addresses.
	const n = 10
	sendRTP(t, a, toA, 0x1111, n)
	gotB := recvRTP(t, b, toB, 0x1111, n)
	sendRTP(t, b, toB, 0x2222, n)
	gotA := recvRTP(t, a, toA, 0x2222, n)
	if gotA < n/2 || gotB < n/2 {
		t.Fatalf("relayed %d packets a->b and %d b->a of %d\n%s", gotB, gotA, n, r.Log())
	}

	q, err := r.Query(ctx, callID)
	if err != nil {
		t.Fatal(err)
	}
	if q.RTP.Packets < int64(gotA+gotB) {
		t.Errorf("rtpengine counted %d RTP packets, the parties received %d", q.RTP.Packets, gotA+gotB)
	}
	locals := map[string]bool{}
	for _, s := range q.Streams {
		if !s.RTCP {
			locals[s.Local] = true
		}
	}
	if !locals[toA.String()] || !locals[toB.String()] {
		t.Errorf("query streams %+v do not name the relay ports %v and %v", q.Streams, toA, toB)
	}

	ids, err := r.Sessions(ctx)
	if err != nil || len(ids) != 1 || ids[0] != callID {
		t.Fatalf("sessions %v (%v), want [%s]", ids, err, callID)
	}
	if err := r.Delete(ctx, callID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Query(ctx, callID); err == nil {
		t.Error("a deleted call can still be queried")
	}
	if ids, err := r.Sessions(ctx); err != nil || len(ids) != 0 {
		t.Errorf("sessions after delete: %v (%v)", ids, err)
	}
	// ng errors come back as errors with rtpengine's reason.
	if _, err := r.Answer(ctx, "no-such-call", "x", "y", sdpOffer("127.0.0.1", aPort)); err == nil {
		t.Error("an answer for an unknown call succeeded")
	}

	pid := r.cmd.Process.Pid
	r.Stop()
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("rtpengine's process group %d still exists after Stop: %v", pid, err)
	}
	if _, err := os.Stat(r.Dir() + "/rtpengine.log"); err != nil {
		t.Errorf("rtpengine's log is not in its temporary directory: %v", err)
	}
}

// relayAddr checks that sdp (rewritten by rtpengine) points at rtpengine's 127.0.0.2 within
// the port range, not at the party's own port, and returns that address.
func relayAddr(t *testing.T, sdp string, partyPort, minPort, maxPort int) *net.UDPAddr {
	t.Helper()
	ip, port := sdpMedia(t, sdp)
	if ip != "127.0.0.2" || port == partyPort || port < minPort || port > maxPort {
		t.Fatalf("rewritten SDP has %s:%d, want rtpengine's 127.0.0.2:%d-%d\n%s", ip, port, minPort, maxPort, sdp)
	}
	return &net.UDPAddr{IP: net.ParseIP(ip), Port: port}
}

func listenUDP(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func sendRTP(t *testing.T, c *net.UDPConn, to *net.UDPAddr, ssrc uint32, n int) {
	t.Helper()
	for i := range n {
		p := rtp.Packet{
			Header:  rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(100 + i), Timestamp: uint32(160 * i), SSRC: ssrc},
			Payload: bytes.Repeat([]byte{0xff}, 160),
		}
		raw, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.WriteToUDP(raw, to); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recvRTP counts the RTP packets of ssrc that arrive on c from the relay address from,
// waiting up to 3 s for the first n.
func recvRTP(t *testing.T, c *net.UDPConn, from *net.UDPAddr, ssrc uint32, n int) int {
	t.Helper()
	buf := make([]byte, 1500)
	got := 0
	deadline := time.Now().Add(3 * time.Second)
	for got < n {
		c.SetReadDeadline(deadline)
		k, src, err := c.ReadFromUDP(buf)
		if err != nil {
			break
		}
		var p rtp.Packet
		if p.Unmarshal(buf[:k]) != nil || p.SSRC != ssrc {
			continue
		}
		if src.String() != from.String() {
			t.Errorf("relayed RTP came from %v, want the relay port %v", src, from)
		}
		got++
	}
	return got
}
