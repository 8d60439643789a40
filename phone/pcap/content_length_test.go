package pcap

import "testing"

func TestSetContentLength(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 99\r\n\r\nhello", "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 5\r\n\r\nhello"},
		{"SIP/2.0 200 OK\r\nL:7\r\nVia: x\r\n\r\n", "SIP/2.0 200 OK\r\nL: 0\r\nVia: x\r\n\r\n"},
		{"BYE sip:a@b SIP/2.0\r\nVia: x\r\n\r\nbody", "BYE sip:a@b SIP/2.0\r\nVia: x\r\n\r\nbody"}, // no header: as it is
		{"BYE sip:a@b SIP/2.0\r\nContent-Length: 4", "BYE sip:a@b SIP/2.0\r\nContent-Length: 4"},   // no header end
	} {
		if got := string(SetContentLength([]byte(c.in))); got != c.want {
			t.Errorf("SetContentLength(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
