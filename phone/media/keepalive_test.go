package media

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/dialtone/dialtone/phone/nat"
	"github.com/pion/rtp"
)

// TestKeepAliveWhileNotSending: on hold nothing is sent, so after KeepAliveInterval a STUN
// indication goes to the far end's RTP address, and not before.
func TestKeepAliveWhileNotSending(t *testing.T) {
	now := time.Unix(5000, 0)
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1"), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	far := udpSocket(t)
	p := Params{Remote: far.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: codec.PCMU, DTMFPT: -1, Send: false}
	s.Update(p)
	buf := make([]byte, 1500)
	expectNothing := func(what string) {
		far.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if n, _, err := far.ReadFrom(buf); err == nil {
			t.Fatalf("%s: got %d bytes", what, n)
		}
	}
	s.keepAlive(p, now)
	now = now.Add(KeepAliveInterval - time.Second)
	s.keepAlive(p, now)
	expectNothing("before the interval")
	now = now.Add(2 * time.Second)
	s.keepAlive(p, now)
	far.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := far.ReadFrom(buf)
	if err != nil || !nat.IsSTUN(buf[:n]) {
		t.Fatalf("no STUN keep-alive after %v of silence: %v", KeepAliveInterval, err)
	}
	if s.Stats().KeepAlives != 1 {
		t.Fatalf("keep-alives counted %d", s.Stats().KeepAlives)
	}
	now = now.Add(time.Second)
	s.keepAlive(p, now)
	expectNothing("right after a keep-alive")
}

// TestActivity: the silence counters start when receiving starts, follow accepted RTP and
// RTCP, and read zero while we do not expect anything (hold, sendonly).
func TestActivity(t *testing.T) {
	now := time.Unix(7000, 0)
	s := openSession(t, Config{Now: func() time.Time { return now }, NewTicker: noTicks})
	peer := netip.MustParseAddrPort("127.0.0.1:40000")
	if r, a := s.Activity(now); r != 0 || a != 0 {
		t.Fatalf("before start: %v %v", r, a)
	}
	s.Start(Params{Remote: peer, Codec: codec.PCMU, DTMFPT: -1, Receive: true})
	now = now.Add(6 * time.Second)
	if r, a := s.Activity(now); r != 6*time.Second || a != 6*time.Second {
		t.Fatalf("6 s after start with nothing received: %v %v", r, a)
	}
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1, SequenceNumber: 1}, Payload: make([]byte, 160)}
	b, _ := pkt.Marshal()
	var scratch rtp.Packet
	s.handleRTP(b, peer, &scratch)
	now = now.Add(2 * time.Second)
	s.handleRTCP([]byte{0x80, 201, 0, 1, 0, 0, 0, 1}, now) // an empty receiver report
	now = now.Add(time.Second)
	if r, a := s.Activity(now); r != 3*time.Second || a != time.Second {
		t.Fatalf("after RTP then RTCP: since RTP %v since any %v", r, a)
	}
	s.Update(Params{Remote: peer, Codec: codec.PCMU, DTMFPT: -1, Receive: false}) // put on hold
	if r, a := s.Activity(now); r != 0 || a != 0 {
		t.Fatalf("on hold: %v %v", r, a)
	}
	s.Update(Params{Remote: peer, Codec: codec.PCMU, DTMFPT: -1, Receive: true}) // resumed
	now = now.Add(500 * time.Millisecond)
	if r, _ := s.Activity(now); r != 500*time.Millisecond {
		t.Fatalf("after resume the silence counts from the resume: %v", r)
	}
}
