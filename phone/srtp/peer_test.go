package srtp

import (
	"bytes"
	"errors"
	"testing"

	"github.com/dialtone/dialtone/phone/srtp/internal/libsrtp"
)

// libsrtpSuite is libsrtp's number for a suite (phone/srtp/internal/libsrtp).
var libsrtpSuite = map[Suite]int{
	AESCM128HMACSHA180: libsrtp.AESCM128HMACSHA180,
	AESCM128HMACSHA132: libsrtp.AESCM128HMACSHA132,
	AEADAES128GCM:      libsrtp.AEADAES128GCM,
	AEADAES256GCM:      libsrtp.AEADAES256GCM,
}

// peer is libsrtp2 playing the far end of a Stream: it protects with the stream's remote key
// and unprotects with its local one.
type peer struct{ out, in *libsrtp.Session }

func newPeer(t testing.TB, k Keys) *peer {
	t.Helper()
	if !libsrtp.Available {
		t.Skip("libsrtp2 peer not built in: needs cgo and libsrtp2-dev (apt-get install libsrtp2-dev), and no -tags nolibsrtp")
	}
	out, err := libsrtp.New(libsrtpSuite[k.Remote.Suite], false, k.Remote.Key, 128)
	if err != nil {
		t.Fatal(err)
	}
	in, err := libsrtp.New(libsrtpSuite[k.Local.Suite], true, k.Local.Key, 128)
	if err != nil {
		out.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close(); in.Close() })
	return &peer{out: out, in: in}
}

// TestAgainstLibsrtp2: for each suite, RTP and RTCP protected by us unprotect in libsrtp2
// and the reverse, across a sequence number rollover; both produce the same SRTP bytes for
// the same RTP packet; each side refuses the other's tampered packets and replays.
func TestAgainstLibsrtp2(t *testing.T) {
	for _, su := range Suites {
		t.Run(su.String(), func(t *testing.T) {
			us, twin := pair(t, su) // twin has the far end's keys: its protect is what libsrtp2's must equal
			p := newPeer(t, us.Keys())
			buf := make([]byte, 1500)
			lbuf := make([]byte, 1500)
			for seq := uint16(65500); seq != 40; seq++ {
				plain := bytes.Clone(rtpPacket(buf, seq, uint32(seq)*160, 0x11223344, 160))
				// Ours to libsrtp2.
				wire, err := us.ProtectRTP(rtpPacket(buf, seq, uint32(seq)*160, 0x11223344, 160))
				if err != nil {
					t.Fatal(err)
				}
				n := copy(lbuf, wire)
				n, err = p.in.UnprotectRTP(lbuf, n)
				if err != nil || !bytes.Equal(lbuf[:n], plain) {
					t.Fatalf("seq %d: libsrtp2 unprotects ours: %v, equal %v", seq, err, bytes.Equal(lbuf[:n], plain))
				}
				// libsrtp2's to ours, byte for byte what our own protect with its key makes.
				n = copy(lbuf, plain)
				n, err = p.out.ProtectRTP(lbuf, n)
				if err != nil {
					t.Fatalf("seq %d: libsrtp2 protect: %v", seq, err)
				}
				theirs := bytes.Clone(lbuf[:n])
				mine, err := twin.ProtectRTP(rtpPacket(buf, seq, uint32(seq)*160, 0x11223344, 160))
				if err != nil || !bytes.Equal(mine, theirs) {
					t.Fatalf("seq %d: libsrtp2 and we protect the same packet differently (%d and %d bytes)", seq, len(theirs), len(mine))
				}
				got, err := us.UnprotectRTP(lbuf[:n])
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("seq %d: we unprotect libsrtp2's: %v", seq, err)
				}
			}
			for i := range 5 {
				plain := bytes.Clone(rtcpRR(buf, 0x11223344))
				wire, err := us.ProtectRTCP(rtcpRR(buf, 0x11223344))
				if err != nil {
					t.Fatal(err)
				}
				n := copy(lbuf, wire)
				if n, err = p.in.UnprotectRTCP(lbuf, n); err != nil || !bytes.Equal(lbuf[:n], plain) {
					t.Fatalf("rtcp %d: libsrtp2 unprotects ours: %v", i, err)
				}
				n = copy(lbuf, plain)
				if n, err = p.out.ProtectRTCP(lbuf, n); err != nil {
					t.Fatal(err)
				}
				if got, err := us.UnprotectRTCP(lbuf[:n]); err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("rtcp %d: we unprotect libsrtp2's: %v", i, err)
				}
			}
			// Tampering and replay, both ways.
			n := copy(lbuf, rtpPacket(buf, 100, 0, 0x11223344, 160))
			n, _ = p.out.ProtectRTP(lbuf, n)
			good := bytes.Clone(lbuf[:n])
			bad := bytes.Clone(good)
			bad[20] ^= 0x80
			if _, err := us.UnprotectRTP(bad); !errors.Is(err, ErrAuth) {
				t.Errorf("libsrtp2's packet tampered: %v, want ErrAuth", err)
			}
			if _, err := us.UnprotectRTP(bytes.Clone(good)); err != nil {
				t.Fatal(err)
			}
			if _, err := us.UnprotectRTP(good); !errors.Is(err, ErrReplay) {
				t.Errorf("libsrtp2's packet replayed: %v, want ErrReplay", err)
			}
			wire, _ := us.ProtectRTP(rtpPacket(buf, 101, 0, 0x11223344, 160))
			mine := bytes.Clone(wire)
			n = copy(lbuf, mine)
			lbuf[n-1] ^= 1
			var le *libsrtp.Error
			if _, err := p.in.UnprotectRTP(lbuf, n); !errors.As(err, &le) || le.Status != libsrtp.StatusAuthFail {
				t.Errorf("ours tampered: libsrtp2 says %v, want auth_fail", err)
			}
			n = copy(lbuf, mine)
			if _, err := p.in.UnprotectRTP(lbuf, n); err != nil {
				t.Fatal(err)
			}
			n = copy(lbuf, mine)
			if _, err := p.in.UnprotectRTP(lbuf, n); !errors.As(err, &le) || le.Status != libsrtp.StatusReplayFail {
				t.Errorf("ours replayed: libsrtp2 says %v, want replay_fail", err)
			}
		})
	}
}
