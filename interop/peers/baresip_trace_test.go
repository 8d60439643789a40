package peers

import (
	"strings"
	"testing"
)

// traceSample is a cut-down baresip 1.0 log: a REGISTER over a TLS
// connection baresip opened, the registrar's answer, an INVITE arriving on
// that connection, and a UDP request to baresip's own listener.
const traceSample = "baresip is ready.\n" +
	"\x1b[36;1m#\nTLS 127.0.0.1:56076 -> 127.0.0.1:46475\nREGISTER sip:127.0.0.1;transport=tls SIP/2.0\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n\x1b[;m\n" +
	"\x1b[36;1m#\nTLS 127.0.0.1:46475 -> 127.0.0.1:56076\nSIP/2.0 200 OK\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n\x1b[;m\n" +
	"bob@127.0.0.1: {0/TLS/v4} 200 OK\n" +
	"\x1b[36;1m#\nTLS 127.0.0.1:46475 -> 127.0.0.1:56076\nINVITE sip:bob@127.0.0.1 SIP/2.0\r\nCSeq: 7 INVITE\r\nContent-Type: application/sdp\r\n\r\nv=0\r\nm=audio 4000 RTP/SAVP 0\r\n\x1b[;m\n" +
	"\x1b[36;1m#\nTLS 127.0.0.1:56076 -> 127.0.0.1:46475\nSIP/2.0 488 Not Acceptable Here\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n\x1b[;m\n" +
	"\x1b[36;1m#\nUDP 127.0.0.1:40000 -> 127.0.0.1:5999\nOPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nCSeq: 9 OPTIONS\r\n\r\n\x1b[;m\n"

func TestParseBaresipTrace(t *testing.T) {
	msgs := parseBaresipTrace(traceSample, []string{"127.0.0.1:5999", "127.0.0.1:6000"})
	type want struct {
		sent   bool
		tp     string
		method string
		code   int
		body   bool
	}
	wants := []want{
		{true, "TLS", "REGISTER", 0, false},
		{false, "TLS", "REGISTER", 200, false},
		{false, "TLS", "INVITE", 0, true},
		{true, "TLS", "INVITE", 488, false},
		{false, "UDP", "OPTIONS", 0, false},
	}
	if len(msgs) != len(wants) {
		t.Fatalf("%d messages, want %d: %+v", len(msgs), len(wants), msgs)
	}
	for i, w := range wants {
		m := msgs[i]
		if m.Sent != w.sent || m.Transport != w.tp || m.Method() != w.method || m.StatusCode() != w.code || (m.Body() != "") != w.body {
			t.Errorf("message %d (%s): sent %v %s %s %d body %q, want %+v", i, m.FirstLine(), m.Sent, m.Transport, m.Method(), m.StatusCode(), m.Body(), w)
		}
	}
	if b := msgs[2].Body(); !strings.HasPrefix(b, "v=0\r\nm=audio 4000 RTP/SAVP 0") {
		t.Errorf("INVITE body %q", b)
	}
}

// FuzzParseBaresipTrace: any log text parses without panicking, and every
// message found has a transport and both addresses.
func FuzzParseBaresipTrace(f *testing.F) {
	f.Add(traceSample)
	f.Add("\x1b[36;1m#\nUDP a -> b\n")
	f.Add("\x1b[36;1m#\nUDP 1.2.3.4:5 -> 6.7.8.9:10\nSIP/2.0\x1b[;m")
	f.Fuzz(func(t *testing.T, log string) {
		for _, m := range parseBaresipTrace(log, []string{"127.0.0.1:5999"}) {
			if m.Transport == "" || m.Src == "" || m.Dst == "" {
				t.Fatalf("message without transport or address: %+v", m)
			}
			_ = m.Method()
			_ = m.StatusCode()
			_ = m.Body()
		}
	})
}
