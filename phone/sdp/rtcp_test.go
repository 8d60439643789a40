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
