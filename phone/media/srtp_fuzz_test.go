package media

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/dialtone/dialtone/codec"
	"github.com/dialtone/dialtone/phone/srtp"
)

// FuzzReceiveSRTP feeds arbitrary packets through an SRTP session's receive path twice: as
// they are (forgeries: truncated, garbage, padding bits over ciphertext) and protected with
// the far end's key (authentic packets whose decrypted header, padding and payload are the
// fuzzer's: padding longer than the payload, zero padding, CSRCs, extensions). Nothing may
// panic, and every datagram is counted as received or dropped.
func FuzzReceiveSRTP(f *testing.F) {
	good := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 1, Timestamp: 160, SSRC: 9}, Payload: make([]byte, 160)}
	gb, _ := good.Marshal()
	f.Add(gb)
	padded := good
	padded.Header.Padding, padded.Header.PaddingSize, padded.PaddingSize = true, 4, 4
	pb, _ := padded.Marshal()
	f.Add(pb)
	f.Add([]byte{0xa0, 0, 0, 2, 0, 0, 1, 64, 0, 0, 0, 9, 1, 2, 3, 200}) // padding longer than the payload
	f.Add([]byte{0xa0, 0, 0, 3, 0, 0, 1, 224, 0, 0, 0, 9, 1, 2, 3, 0})  // zero padding length
	f.Add([]byte{0xa0, 0, 0, 4, 0, 0, 2, 128, 0, 0, 0, 9})              // padding bit, no payload
	f.Add([]byte{0x8f, 0, 0, 5, 0, 0, 0, 160, 0, 0, 0, 9})              // CSRC count 15, no CSRCs
	f.Add([]byte{0x80, 101, 0, 6, 0, 0, 1, 0, 0, 0, 0, 9, 1, 0x8a, 0, 160})
	peer := netip.MustParseAddrPort("127.0.0.1:40000")
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	ours, theirs := swappedKeys(f, srtp.AESCM128HMACSHA180)
	s.Update(Params{Remote: peer, Codec: codec.PCMA, DTMFPT: 101, Receive: true, SRTP: ours})
	far, err := srtp.NewStream(*theirs)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(0, 0)
	s.now = func() time.Time { return now }
	var pkt rtp.Packet
	out := make([]int16, codec.FrameSamples)
	receive := func(t *testing.T, b []byte) {
		before := s.Stats()
		s.handleRTP(b, peer, &pkt)
		after := s.Stats()
		if after.PacketsReceived+after.Dropped <= before.PacketsReceived+before.Dropped-after.Duplicate {
			t.Fatalf("datagram not counted: before %+v after %+v", before, after)
		}
		now = now.Add(20 * time.Millisecond)
		s.rx.playFrame(s, s.current(), now, out)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1400 {
			return // more than a datagram the socket reads
		}
		receive(t, append([]byte(nil), b...))
		buf := make([]byte, len(b), len(b)+srtpTrailerMax)
		copy(buf, b)
		if w, err := far.ProtectRTP(buf); err == nil {
			receive(t, w)
		}
	})
}
