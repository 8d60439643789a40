package phone

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestPublicAddressFromVia(t *testing.T) {
	via := func(params ...string) *sip.ViaHeader {
		v := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "192.168.1.5", Port: 5060, Params: sip.NewParams()}
		for i := 0; i+1 < len(params); i += 2 {
			v.Params.Add(params[i], params[i+1])
		}
		return v
	}
	cases := []struct {
		name     string
		via      *sip.ViaHeader
		wantHost string
		wantPort int
		wantOK   bool
	}{
		{"no via", nil, "", 0, false},
		{"same address", via("rport", "5060"), "", 0, false},
		{"rport empty (server ignored it)", via("rport", ""), "", 0, false},
		{"NAT maps both", via("received", "203.0.113.7", "rport", "40123"), "203.0.113.7", 40123, true},
		{"only the port changed", via("rport", "40123"), "192.168.1.5", 40123, true},
		{"only received", via("received", "203.0.113.7"), "203.0.113.7", 5060, true},
		{"garbage rport ignored", via("received", "203.0.113.7", "rport", "99999"), "203.0.113.7", 5060, true},
	}
	for _, c := range cases {
		h, p, ok := publicAddress(c.via, "192.168.1.5", 5060)
		if h != c.wantHost || p != c.wantPort || ok != c.wantOK {
			t.Errorf("%s: got %s:%d %v, want %s:%d %v", c.name, h, p, ok, c.wantHost, c.wantPort, c.wantOK)
		}
	}
}
