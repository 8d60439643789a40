package phone

import (
	"testing"

	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/dialtone/dialtone/phone/srtp"
)

// The policy a call's own re-INVITEs follow once its media is settled: the profile it settled,
// and under sdes-required no way back to plain RTP even when SRTP was settled as RTP/AVP with
// keys (a peer's best-effort form): such a call used to take a later plain offer.
func TestSessionEncryption(t *testing.T) {
	keys := &srtp.Keys{}
	for _, c := range []struct {
		name         string
		n            sdp.Negotiated
		required     bool
		enc          sdp.Encryption
		keysRequired bool
	}{
		{"plain", sdp.Negotiated{Proto: "RTP/AVP"}, false, sdp.EncryptionNone, false},
		{"RTP/SAVP", sdp.Negotiated{Proto: "RTP/SAVP", SRTP: keys}, false, sdp.EncryptionSDESRequired, true},
		{"RTP/AVP with keys, best effort", sdp.Negotiated{Proto: "RTP/AVP", SRTP: keys}, false, sdp.EncryptionSDES, false},
		{"RTP/AVP with keys, sdes-required", sdp.Negotiated{Proto: "RTP/AVP", SRTP: keys}, true, sdp.EncryptionSDES, true},
	} {
		enc, req := sessionEncryption(c.n, c.required)
		if enc != c.enc || req != c.keysRequired {
			t.Errorf("%s: %v, keys required %v; want %v, %v", c.name, enc, req, c.enc, c.keysRequired)
		}
	}
}

// A later offer naming suites the call holds no key for gets fresh keys for them (their tags
// the suites', apart from the held ones'); suites held or unknown add nothing.
func TestKeysAdded(t *testing.T) {
	held, err := newKeysFor(sdp.EncryptionSDES, []srtp.Suite{srtp.AESCM128HMACSHA180})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := keysAdded(sdp.EncryptionSDES, held, []srtp.Suite{srtp.AEADAES128GCM, srtp.AESCM128HMACSHA180})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Tag != held[0].Tag || keys[1].Suite != srtp.AEADAES128GCM || keys[1].Tag == keys[0].Tag {
		t.Fatalf("keys %v %v, want the held one and a new AEAD_AES_128_GCM one under another tag", keys[0].Masked(), keys[len(keys)-1].Masked())
	}
	if len(held) != 1 {
		t.Fatal("the held keys were changed")
	}
	if again, _ := keysAdded(sdp.EncryptionSDES, keys, []srtp.Suite{srtp.AESCM128HMACSHA180, srtp.Suite(99)}); len(again) != 2 {
		t.Fatalf("held and unknown suites added keys: %d", len(again))
	}
	if none, _ := keysAdded(sdp.EncryptionNone, nil, []srtp.Suite{srtp.AEADAES128GCM}); len(none) != 0 {
		t.Fatal("keys under EncryptionNone")
	}
}
