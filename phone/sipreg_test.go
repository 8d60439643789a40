package phone

import (
	"testing"
	"time"

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

// TestGrantedExpiresOverIPv6: the registrar grants less than we asked in our Contact's
// expires (no Expires header). sipgo parses that Contact's host as "[2001:db8::1]" and ours is
// stored bare; the grant was missed and we refreshed on the 600 s we asked for.
func TestGrantedExpiresOverIPv6(t *testing.T) {
	raw := "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1\r\nFrom: <sip:alice@example.com>;tag=1\r\n" +
		"To: <sip:alice@example.com>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n" +
		"Contact: <sip:alice@[2001:db8::1]:5060>;expires=120\r\nContent-Length: 0\r\n\r\n"
	msg, err := sip.NewParser().ParseSIP([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	r := &sipRegistrar{contact: sip.Uri{Scheme: "sip", User: "alice", Host: "2001:db8::1", Port: 5060}}
	if got := r.result(msg.(*sip.Response), 600*time.Second).Expires; got != 120*time.Second {
		t.Fatalf("granted %v, want the Contact's 120 s", got)
	}
}

// TestGrantedExpiresOfARewrittenContact: a registrar or SBC that stores the address it saw us
// from lists a binding we cannot find by our own Contact; its expires (often short, to hear
// from us behind NAT) bounds the lifetime when it is ours: at the address our Via's received
// and rport name, or the only one listed. Another device's binding of the same account never
// is (one about to lapse had us refresh every half second). We refreshed on the Expires header
// or what we asked for, and the binding lapsed.
func TestGrantedExpiresOfARewrittenContact(t *testing.T) {
	r := &sipRegistrar{contact: sip.Uri{Scheme: "sip", User: "alice", Host: "192.168.1.5", Port: 5060}}
	const natted = ";received=203.0.113.9;rport=40001"
	for _, c := range []struct {
		name, via, headers string
		want               time.Duration
	}{
		{"rewritten, no Expires", "", "Contact: <sip:alice@203.0.113.9:40001>;expires=60\r\n", 60 * time.Second},
		{"rewritten, a longer Expires", "", "Expires: 3600\r\nContact: <sip:alice@203.0.113.9:40001>;expires=60\r\n", 60 * time.Second},
		{"the only one, another user", "", "Contact: <sip:x9f2@203.0.113.9:40001>;expires=90\r\n", 90 * time.Second},
		{"at our public address among others", natted, "Expires: 3600\r\nContact: <sip:alice@198.51.100.4:5060>;expires=1, <sip:alice@203.0.113.9:40001>;expires=120\r\n", 120 * time.Second},
		{"others' bindings only", "", "Expires: 3600\r\nContact: <sip:bob@198.51.100.2>;expires=30, <sip:carol@198.51.100.3>;expires=20\r\n", 3600 * time.Second},
		{"other devices of our user only", natted, "Contact: <sip:alice@198.51.100.4:5060>;expires=1, <sip:alice@198.51.100.5:5060>;expires=1800\r\n", 600 * time.Second},
		{"ours listed, beside a shorter one of our user", "", "Contact: <sip:alice@203.0.113.9:40001>;expires=30\r\nContact: <sip:alice@192.168.1.5:5060>;expires=300\r\n", 300 * time.Second},
		{"ours listed twice", "", "Contact: <sip:alice@192.168.1.5:5060>\r\nContact: <sip:alice@192.168.1.5:5060>;expires=30\r\n", 30 * time.Second},
		{"nothing listed", "", "", 600 * time.Second},
		{"over TCP, no rport: at the host seen, our user", ";received=203.0.113.9", "Contact: <sip:alice@198.51.100.4:5060>;expires=1800, <sip:alice@203.0.113.9:51234;transport=tcp>;expires=90\r\n", 90 * time.Second},
		{"over TCP, no rport: at the host seen, another user", ";received=203.0.113.9", "Contact: <sip:bob@203.0.113.9:51234;transport=tcp>;expires=5, <sip:alice@198.51.100.4:5060>;expires=1800\r\n", 600 * time.Second},
	} {
		raw := "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.168.1.5:5060;branch=z9hG4bK1" + c.via + "\r\nFrom: <sip:alice@example.com>;tag=1\r\n" +
			"To: <sip:alice@example.com>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n" + c.headers + "Content-Length: 0\r\n\r\n"
		msg, err := sip.NewParser().ParseSIP([]byte(raw))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := r.result(msg.(*sip.Response), 600*time.Second).Expires; got != c.want {
			t.Errorf("%s: granted %v, want %v", c.name, got, c.want)
		}
	}
}
