package phone

import (
	"slices"
	"testing"

	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/dialtone/dialtone/phone/srtp"
)

// TestNewKeysFor: an answerer's keys are for the offered suites alone, each under the tag
// newKeys gives it; a plain offer under SDES still gets the one key the SDP policy wants;
// none under EncryptionNone; every key fresh.
func TestNewKeysFor(t *testing.T) {
	all, err := newKeys(sdp.EncryptionSDES)
	if err != nil {
		t.Fatal(err)
	}
	tagOf := map[srtp.Suite]int{}
	for _, k := range all {
		tagOf[k.Suite] = k.Tag
	}
	if len(all) != len(srtp.Suites) {
		t.Fatalf("newKeys made %d keys, want one per suite (%d)", len(all), len(srtp.Suites))
	}
	tests := []struct {
		name string
		enc  sdp.Encryption
		want []srtp.Suite
		got  []srtp.Suite // the suites the keys are for
	}{
		{"one offered", sdp.EncryptionSDES, []srtp.Suite{srtp.AESCM128HMACSHA132}, []srtp.Suite{srtp.AESCM128HMACSHA132}},
		{"two offered, ours in our order", sdp.EncryptionSDESRequired, []srtp.Suite{srtp.AESCM128HMACSHA180, srtp.AEADAES128GCM}, []srtp.Suite{srtp.AEADAES128GCM, srtp.AESCM128HMACSHA180}},
		{"plain offer", sdp.EncryptionSDES, nil, []srtp.Suite{srtp.AESCM128HMACSHA180}},
		{"encryption off", sdp.EncryptionNone, []srtp.Suite{srtp.AESCM128HMACSHA180}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := newKeysFor(tt.enc, tt.want)
			if err != nil {
				t.Fatal(err)
			}
			var suites []srtp.Suite
			for _, k := range keys {
				suites = append(suites, k.Suite)
				if k.Tag != tagOf[k.Suite] || len(k.Key) != k.Suite.KeySaltLen() {
					t.Errorf("%s key: tag %d (want %d), %d bytes", k.Suite, k.Tag, tagOf[k.Suite], len(k.Key))
				}
				for _, o := range all {
					if slices.Equal(o.Key, k.Key) {
						t.Errorf("%s key repeats another call's", k.Suite)
					}
				}
			}
			if !slices.Equal(suites, tt.got) {
				t.Errorf("keys for %v, want %v", suites, tt.got)
			}
		})
	}
}
