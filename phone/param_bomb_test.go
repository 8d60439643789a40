package phone

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
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
	conn, to := udpPeer(t, addr)

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

// TestTooManyParams: the lists counted are the ones sipgo parses: per line of the head (lines
// end at CRLF only, a folded header counted whole), the request line and From/To as one list,
// Contact/Route values split at commas outside quotes and <>, Via values at every comma;
// headers sipgo keeps as text and the body are not counted.
func TestTooManyParams(t *testing.T) {
	params := func(n int, sep string) string { return strings.Repeat(sep+"p", n) }
	head := "MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
	var bindings []string // a registrar's 200 listing 15 bindings on one line, as Kamailio does
	for i := range 15 {
		bindings = append(bindings, fmt.Sprintf("<sip:alice@192.0.2.%d:5060;transport=udp;ob>;expires=600;+sip.instance=\"<urn:uuid:%d>\""+
			";reg-id=1;received=\"sip:198.51.100.7:%d\";pub-gruu=\"sip:alice@example.com;gr=urn:uuid:%d\";temp-gruu=\"sip:tgruu.%d@example.com;gr\"", i, i, 5060+i, i, i))
	}
	for _, c := range []struct {
		name string
		data string
		want bool
	}{
		{"99 on To", head + "To: <sip:a@b" + params(99, ";") + ">\r\n\r\n", false},
		{"100 on To (101 parameters with the one before the first)", head + "To: <sip:a@b" + params(100, ";") + ">\r\n\r\n", true},
		{"To in compact form", head + "t: <sip:a@b" + params(101, ";") + ">\r\n\r\n", true},
		{"60 on each of To and From", head + "To: <sip:a@b" + params(60, ";") + ">\r\nFrom: <sip:c@d>" + params(60, ";") + "\r\n\r\n", false},
		{"60 and 60 on a folded To", head + "To: <sip:a@b" + params(60, ";") + "\r\n " + params(60, ";") + ">\r\n\r\n", true},
		{"commas in To do not split it", head + "To: <sip:a@b" + params(60, ";") + ">, <sip:c@d" + params(60, ";") + ">\r\n\r\n", true},
		{"URI headers", head + "Contact: <sip:a@b?x=1" + params(101, "&") + ">\r\n\r\n", true},
		{"the request line", "MESSAGE sip:a@b" + params(101, ";") + " SIP/2.0\r\n\r\n", true},
		{"a bare LF is no line end", head + "To: <sip:a@b" + params(60, ";") + "\n" + params(60, ";") + ">\r\n\r\n", true},
		{"LF LF is no end of the head", "\n\n" + head + "To: <sip:a@b" + params(101, ";") + ">\r\n\r\n", true},
		{"LF LF inside a header sipgo keeps as text", head + "X: y\n\nTo: <sip:a@b" + params(101, ";") + ">\r\n\r\n", false},
		{"a bare CR is no line end", head + "To: <sip:a@b" + params(60, ";") + "\r" + params(60, ";") + ">\r\n\r\n", true},
		{"the body", head + "Content-Length: 500\r\n\r\n" + params(200, ";"), false},
		{"a header sipgo keeps as text", head + "P-Asserted-Identity: <sip:a@b" + params(200, ";") + ">\r\n\r\n", false},
		{"Kamailio's 15 bindings on one Contact line", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1;rport=5060;received=192.0.2.1\r\n" +
			"Contact: " + strings.Join(bindings, ", ") + "\r\n\r\n", false},
		{"Contact values", head + "Contact: <sip:a@b" + params(60, ";") + ">, <sip:c@d" + params(60, ";") + ">\r\n\r\n", false},
		{"a comma inside <> does not split", head + "Contact: <sip:a@b" + params(60, ";") + ",x" + params(60, ";") + ">\r\n\r\n", true},
		{"a comma inside quotes does not split", head + "Contact: <sip:a@b>" + params(60, ";") + ";q=\",\"" + params(60, ";") + "\r\n\r\n", true},
		{"Route values", head + "Route: <sip:a@b;lr" + params(60, ";") + ">,<sip:c@d;lr" + params(60, ";") + ">\r\n\r\n", false},
		{"Via values", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h" + params(60, ";") + ",SIP/2.0/UDP i" + params(60, ";") + "\r\n\r\n", false},
		{"one Via value", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h" + params(101, ";") + "\r\n\r\n", true},
		{"VT before a name", head + "\vTo: <sip:a@b" + params(101, ";") + ">\r\n\r\n", true},
		{"NBSP and NEL around a name", head + "\u00a0From\u0085: <sip:c@d" + params(101, ";") + ">\r\n\r\n", true},
		{"a bare LF before a name", head + "X: y\r\n\nTo: <sip:a@b" + params(101, ";") + ">\r\n\r\n", true},
		{"empty", "", false},
	} {
		if got := tooManyParams([]byte(c.data)); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// FuzzTooManyParams checks tooManyParams against sipgo's parser itself: whenever it lets a
// datagram through, no list of parameters sipgo parses from it (the Request-URI's, those of
// From, To, Contact, Via, Route, Record-Route, Refer-To and Referred-By, and their URIs') is
// longer than maxHeaderParams.
func FuzzTooManyParams(f *testing.F) {
	f.Add([]byte("MESSAGE sip:a@b SIP/2.0\r\nTo: <sip:a@b;x;y>\r\n\r\nbody;;;"))
	f.Add([]byte(paramBomb("INVITE", "127.0.0.1:5060", 150, 1)))
	f.Add([]byte("INVITE sip:a@b SIP/2.0\r\nContact: <sip:a@b;x>;y, \"n,\" <sip:c@d?h=1&i=2>;z\r\nVia: SIP/2.0/UDP h;a,SIP/2.0/UDP i;b\r\n\r\n"))
	// At the limit, so that one byte more or less (a separator, a comma, a quote, a bracket, a
	// line end) decides.
	p49, p99 := strings.Repeat(";p", 49), strings.Repeat(";p", 99)
	f.Add([]byte("INVITE sip:a@b SIP/2.0\r\nTo: <sip:a@b" + p49 + ">" + p49 + "\r\n\r\n"))
	f.Add([]byte("INVITE sip:a@b" + p99 + " SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\n\r\n"))
	f.Add([]byte("SIP/2.0 200 OK\r\nContact: <sip:a@b" + p49 + ">" + p49 + ", \"x\" <sip:c@d" + p99 + ">\r\n\r\n"))
	f.Add([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h" + p99 + ",SIP/2.0/UDP i" + p99 + "\r\n\r\n"))
	f.Add([]byte("BYE sip:a@b SIP/2.0\r\nRoute: <sip:a@b;lr" + p49 + ">,<sip:c@d" + p99 + ">\r\nRefer-To: <sip:x@y?a=1" + strings.Repeat("&b=2", 98) + ">\r\n\r\n"))
	f.Add([]byte("REFER sip:a@b SIP/2.0\r\nReferred-By: <sip:a@b" + p49 + ">\r\n" + p49 + "\r\n\r\n"))
	for _, ws := range []string{"\n", "\v", "\f", "\u0085", "\u00a0"} { // what sipgo trims off a name
		f.Add([]byte("INVITE sip:a@b SIP/2.0\r\n" + ws + "To" + ws + ": <sip:a@b" + p99 + ">\r\n\r\n"))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 || tooManyParams(data) {
			return
		}
		msg, err := sip.NewParser().ParseSIP(data)
		if msg == nil {
			return
		}
		_ = err // a message may be parsed in part: its headers so far count
		if n, where := longestParamList(msg); n > maxHeaderParams {
			t.Fatalf("let through, and sipgo parsed a list of %d parameters (%s)", n, where)
		}
	})
}

// longestParamList is the longest list of parameters sipgo parsed in msg, and where.
func longestParamList(msg sip.Message) (int, string) {
	longest, where := 0, ""
	note := func(n int, what string) {
		if n > longest {
			longest, where = n, what
		}
	}
	uri := func(u sip.Uri, what string) {
		note(len(u.UriParams), what+" URI parameters")
		note(len(u.Headers), what+" URI headers")
	}
	if req, ok := msg.(*sip.Request); ok {
		uri(req.Recipient, "Request-URI")
	}
	all, _ := msg.(interface{ Headers() []sip.Header }) // requests and responses both
	if all == nil {
		return longest, where
	}
	for _, h := range all.Headers() {
		switch h := h.(type) {
		case *sip.FromHeader:
			uri(h.Address, "From")
			note(len(h.Params), "From")
		case *sip.ToHeader:
			uri(h.Address, "To")
			note(len(h.Params), "To")
		case *sip.ContactHeader:
			uri(h.Address, "Contact")
			note(len(h.Params), "Contact")
		case *sip.ViaHeader:
			note(len(h.Params), "Via")
		case *sip.RouteHeader:
			uri(h.Address, "Route")
		case *sip.RecordRouteHeader:
			uri(h.Address, "Record-Route")
		case *sip.ReferToHeader:
			uri(h.Address, "Refer-To")
		case *sip.ReferredByHeader:
			uri(h.Address, "Referred-By")
			note(len(h.Params), "Referred-By")
		}
	}
	return longest, where
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
