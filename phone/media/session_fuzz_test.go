package media

import (
	"net/netip"
	"testing"
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// FuzzReceiveRTP feeds arbitrary datagrams from the expected peer through the receive path
// and the playout: truncated headers, wrong versions, huge CSRC counts, padding, extensions.
// Nothing may panic, and every datagram is counted as received or dropped.
func FuzzReceiveRTP(f *testing.F) {
	good := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 1, Timestamp: 160, SSRC: 9}, Payload: make([]byte, 160)}
	gb, _ := good.Marshal()
	f.Add(gb)
	f.Add(gb[:11])
	f.Add([]byte{0x8f, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9})                         // CSRC count 15, no CSRCs
	f.Add([]byte{0xa0, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, 1, 2, 3, 200})           // padding longer than the packet
	f.Add([]byte{0x90, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, 0xbe, 0xde, 0xff, 0xff}) // extension past the end
	f.Add([]byte{0x80, 101, 0, 2, 0, 0, 1, 0, 0, 0, 0, 9, 1, 0x8a, 0, 160})        // telephone-event
	f.Add([]byte{0x40, 0, 0, 1})
	for _, n := range []int{240, 40, 960} { // 30, 5 and 120 ms: the playout follows the packets' duration
		p := good
		p.Payload = make([]byte, n)
		b, _ := p.Marshal()
		f.Add(b)
	}
	peer := netip.MustParseAddrPort("127.0.0.1:40000")
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	s.Update(Params{Remote: peer, Codec: codec.PCMA, DTMFPT: 101, Receive: true})
	now := time.Unix(0, 0)
	s.now = func() time.Time { return now }
	var pkt rtp.Packet
	out := make([]int16, codec.FrameSamples)
	f.Fuzz(func(t *testing.T, b []byte) {
		before := s.Stats()
		s.handleRTP(b, peer, &pkt)
		after := s.Stats()
		if after.PacketsReceived+after.Dropped <= before.PacketsReceived+before.Dropped-after.Duplicate {
			t.Fatalf("datagram not counted: before %+v after %+v", before, after)
		}
		now = now.Add(20 * time.Millisecond)
		s.rx.playFrame(s, s.current(), now, out)
	})
}
