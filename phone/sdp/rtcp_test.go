package sdp

import (
	"strings"
	"testing"
)

// TestRTCPAttributeWhenNATMovedIt: a NAT (or relay) that maps the RTCP socket to a port other
// than RTP's + 1 must be announced with a=rtcp, or the far end's reports go nowhere; and our
// own a=rtcp must round-trip through our parser.
func TestRTCPAttributeWhenNATMovedIt(t *testing.T) {
	base := Local{Addr: "198.51.100.1", Port: 40000, Codecs: []string{"PCMU"}, DTMF: true}
	for _, c := range []struct {
		rtcp int
		want string
	}{{0, ""}, {40001, ""}, {52011, "a=rtcp:52011 IN IP4 198.51.100.1\r\n"}} {
		l := base
		l.RTCPPort = c.rtcp
		b, err := Offer(l)
		if err != nil {
			t.Fatal(err)
		}
		has := strings.Contains(string(b), "a=rtcp:")
		if c.want == "" && has || c.want != "" && !strings.Contains(string(b), c.want) {
			t.Fatalf("RTCPPort %d: offer\n%s", c.rtcp, b)
		}
		m, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		want := 40001
		if c.rtcp > 0 {
			want = c.rtcp
		}
		if got := m.RTCPPort; c.want != "" && got != want || c.want == "" && got != 0 {
			t.Fatalf("RTCPPort %d parsed back as %d", c.rtcp, got)
		}
	}
	l := base
	l.RTCPPort = 70000
	if _, err := Offer(l); err == nil {
		t.Fatal("RTCP port 70000 accepted")
	}
}

// TestRTCPAddressOfTheFarEnd: an offer's a=rtcp that names an address (RFC 3605: an SBC or
// relay that splits RTP and RTCP) sends RTCP there; the address was dropped, and the far end's
// RTCP port was paired with the RTP address, where nobody listened.
func TestRTCPAddressOfTheFarEnd(t *testing.T) {
	offer := func(rtcp string) []byte {
		return []byte("v=0\r\no=- 1 1 IN IP4 203.0.113.1\r\ns=-\r\nc=IN IP4 203.0.113.1\r\nt=0 0\r\n" +
			"m=audio 5000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" + rtcp)
	}
	local := Local{Addr: "192.0.2.10", Port: 40000, Codecs: []string{"PCMU"}}
	for _, c := range []struct {
		attr, addr string
		port       int
	}{
		{"a=rtcp:5001 IN IP4 198.51.100.9\r\n", "198.51.100.9", 5001},
		{"a=rtcp:7001\r\n", "", 7001},
		{"a=rtcp:7001 IN IP4 0.0.0.0\r\n", "", 7001},
		{"a=rtcp:7001 IN IP6 2001:db8::9\r\n", "2001:db8::9", 7001},
		{"", "", 5001},
	} {
		_, n, err := Answer(offer(c.attr), local)
		if err != nil {
			t.Fatalf("%q: %v", c.attr, err)
		}
		if n.RemoteRTCPAddr != c.addr || n.RemoteRTCPPort != c.port {
			t.Errorf("%q: RTCP to %q port %d, want %q port %d", c.attr, n.RemoteRTCPAddr, n.RemoteRTCPPort, c.addr, c.port)
		}
	}
}
