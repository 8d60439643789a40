package phone

import (
	"net"
	"strings"
	"testing"
	"time"
)

// paramBomb is scannerRequest with n distinct parameters on the To URI: a datagram that sipgo
// v1.7.3 parses in time quadratic in n (each parameter checked against all before it), ~0.1 s
// for the 6400 that fit in the 32 KB it reads of a datagram.
func paramBomb(method, to string, n, id int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(";p")
		b.WriteByte(byte('a' + i%26))
		b.WriteByte(byte('a' + i/26%26))
		b.WriteByte(byte('a' + i/676%26))
	}
	req := scannerRequest(method, to, "", id)
	return strings.Replace(req, "To: <sip:100@"+to+">", "To: <sip:100@"+to+b.String()+">", 1)
}

// TestHeaderParameterBombIsDropped: a request whose header carries thousands of parameters is
// dropped unparsed (param_guard.go), whatever its method, and the phone answers the next
// request. Before, each such datagram cost the phone up to ~0.1 s of CPU and was answered, so
// ten a second from anyone kept a CPU busy.
func TestHeaderParameterBombIsDropped(t *testing.T) {
	_, addr, events := runPhone(t, Config{})
	to, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	for i, method := range []string{"OPTIONS", "MESSAGE", "INVITE"} {
		bomb := paramBomb(method, addr, 2000, 30+i)
		if len(bomb) > 60000 {
			t.Fatalf("the %s is %d bytes: too big for one datagram", method, len(bomb))
		}
		if res := exchange(t, conn, to, bomb, 500*time.Millisecond); res != "" {
			t.Errorf("%s with 2000 To parameters answered %q: want it dropped unparsed", method, firstLine(res))
		}
	}
	if res := exchange(t, conn, to, scannerRequest("OPTIONS", addr, "", 40), 2*time.Second); !strings.HasPrefix(res, "SIP/2.0 200 ") {
		t.Errorf("OPTIONS after the bombs answered %q, want 200", firstLine(res))
	}
	for {
		select {
		case ev := <-events:
			if _, first := ev.(Snapshot); !first {
				t.Errorf("an event for a request that should have been dropped: %+v", ev)
			}
		default:
			return
		}
	}
}

// TestTooManyParams: the count is per line of the head, a folded header counted whole, the
// start line included; '?' and '&' of URI headers count; the body does not.
func TestTooManyParams(t *testing.T) {
	params := func(n int, sep string) string { return strings.Repeat(sep+"p", n) }
	head := "MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
	for _, c := range []struct {
		name string
		data string
		want bool
	}{
		{"100 on a header", head + "To: <sip:a@b" + params(100, ";") + ">\r\n\r\n", false},
		{"101 on a header", head + "To: <sip:a@b" + params(101, ";") + ">\r\n\r\n", true},
		{"60 on each of two headers", head + "To: <sip:a@b" + params(60, ";") + ">\r\nFrom: <sip:c@d>" + params(60, ";") + "\r\n\r\n", false},
		{"60 and 60 on a folded header", head + "To: <sip:a@b" + params(60, ";") + "\r\n " + params(60, ";") + ">\r\n\r\n", true},
		{"URI headers", head + "Contact: <sip:a@b?x=1" + params(101, "&") + ">\r\n\r\n", true},
		{"the start line", "MESSAGE sip:a@b" + params(101, ";") + " SIP/2.0\r\n\r\n", true},
		{"LF line ends", "MESSAGE sip:a@b SIP/2.0\nTo: <sip:a@b" + params(101, ";") + ">\n\n", true},
		{"the body", head + "Content-Length: 500\r\n\r\n" + params(200, ";"), false},
		{"the body after LF LF", "MESSAGE sip:a@b SIP/2.0\nContent-Length: 500\n\n" + params(200, ";"), false},
		{"a response", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h" + params(101, ";") + "\r\n\r\n", true},
		{"empty", "", false},
	} {
		if got := tooManyParams([]byte(c.data)); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// FuzzTooManyParams checks tooManyParams against a plain restatement: the head split into
// lines at LF, continuation lines joined to theirs, the separators counted per header.
func FuzzTooManyParams(f *testing.F) {
	f.Add([]byte("MESSAGE sip:a@b SIP/2.0\r\nTo: <sip:a@b;x;y>\r\n\r\nbody;;;"))
	f.Add([]byte(paramBomb("INVITE", "127.0.0.1:5060", 150, 1)))
	f.Add([]byte("A\n \n\t;\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		want := false
		var lines []string
		for l := range strings.SplitSeq(string(data), "\n") {
			if strings.TrimSuffix(l, "\r") == "" && len(lines) > 0 {
				break // the empty line ends the head
			}
			if len(lines) > 0 && (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) {
				lines[len(lines)-1] += l
				continue
			}
			lines = append(lines, l)
		}
		for _, l := range lines {
			if strings.Count(l, ";")+strings.Count(l, "?")+strings.Count(l, "&") > maxHeaderParams {
				want = true
			}
		}
		if got := tooManyParams(data); got != want {
			t.Fatalf("tooManyParams = %v, the restatement %v", got, want)
		}
	})
}

// BenchmarkTooManyParams: the guard's cost on an ordinary INVITE with its SDP, which every
// datagram to the SIP port pays.
func BenchmarkTooManyParams(b *testing.B) {
	inv := []byte(scannerRequest("INVITE", "127.0.0.1:5060", "", 1) +
		"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\n" +
		"a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n")
	b.SetBytes(int64(len(inv)))
	for b.Loop() {
		if tooManyParams(inv) {
			b.Fatal("an ordinary INVITE refused")
		}
	}
}
