package phone

import (
	"net/netip"
	"testing"

	"github.com/dialtone/dialtone/phone/sdp"
)

// TestRTCPGoesWhereTheFarEndSaid: an answer or offer whose a=rtcp names its own address (RFC
// 3605) sends our RTCP there, not to the RTP address with that port.
func TestRTCPGoesWhereTheFarEndSaid(t *testing.T) {
	n := sdp.Negotiated{Codec: sdp.Format{PT: 0, Name: "PCMU", Rate: 8000, Channels: 1}, DTMFPT: -1,
		RemoteAddr: "203.0.113.1", RemotePort: 5000, RemoteRTCPPort: 5001, RemoteRTCPAddr: "198.51.100.9"}
	p, err := mediaParams(n, CallAudio{})
	if err != nil {
		t.Fatal(err)
	}
	if want := netip.MustParseAddrPort("198.51.100.9:5001"); p.RemoteRTCP != want {
		t.Fatalf("RTCP to %v, want %v", p.RemoteRTCP, want)
	}
	n.RemoteRTCPAddr = ""
	if p, _ = mediaParams(n, CallAudio{}); p.RemoteRTCP != netip.MustParseAddrPort("203.0.113.1:5001") {
		t.Fatalf("without an address, RTCP to %v, want the RTP address's port 5001", p.RemoteRTCP)
	}
}
