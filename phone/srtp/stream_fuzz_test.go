package srtp

import (
	"bytes"
	"testing"
)

// fuzzKeys are fixed, so the corpus's valid packets stay valid from run to run.
func fuzzKeys(su Suite) Keys {
	k := make([]byte, su.KeySaltLen())
	for i := range k {
		k[i] = byte(i*29 + 3)
	}
	c := Crypto{Tag: 1, Suite: su, Key: k}
	return Keys{Local: c, Remote: c}
}

// FuzzUnprotectRTP feeds arbitrary datagrams to UnprotectRTP and UnprotectRTCP of every
// suite: no panic, a result is a prefix of the input no longer than it, and every call is
// counted once as unprotected or as one kind of drop. Seeds include valid packets.
func FuzzUnprotectRTP(f *testing.F) {
	buf := make([]byte, 1500)
	for _, su := range Suites {
		tx, err := NewStream(fuzzKeys(su))
		if err != nil {
			f.Fatal(err)
		}
		w, _ := tx.ProtectRTP(rtpPacket(buf, 1, 160, 7, 160))
		f.Add(bytes.Clone(w))
		w, _ = tx.ProtectRTCP(rtcpRR(buf, 7))
		f.Add(bytes.Clone(w))
	}
	f.Add([]byte{0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7})
	f.Add([]byte{0xb0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, su := range Suites {
			rx, err := NewStream(fuzzKeys(su))
			if err != nil {
				t.Fatal(err)
			}
			for _, unprotect := range []func([]byte) ([]byte, error){rx.UnprotectRTP, rx.UnprotectRTCP} {
				pkt := bytes.Clone(in)
				out, err := unprotect(pkt)
				if err == nil && (len(out) > len(in) || (len(out) > 0 && &out[0] != &pkt[0])) {
					t.Fatalf("%s: %d bytes out of %d, not a prefix of the input", su, len(out), len(in))
				}
			}
			st := rx.Stats()
			if st.Unprotected+st.AuthFailed+st.Replayed+st.Failed != 2 || st.Protected != 0 {
				t.Fatalf("%s: two calls counted as %+v", su, st)
			}
		}
	})
}
