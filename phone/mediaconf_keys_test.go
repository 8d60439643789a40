package phone

import (
	"slices"
	"testing"

	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/dialtone/dialtone/phone/srtp"
	"github.com/emiago/sipgo/sip"
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

// TestPlainOfferMakesNoKeys: under the default policy (SRTP if offered), an incoming plain
// offer is checked with no SDES key made (a getrandom before the 200) and accepted; an offer
// with a=crypto gets a key for its suite; under sdes-required a plain offer is still refused.
func TestPlainOfferMakesNoKeys(t *testing.T) {
	const key = "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:t0r0/apkukU7JjjfR0mY8GEimBq4OiPEm9eKSFOx\r\n"
	offer := func(extra string) *sip.Request {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1"})
		req.SetBody([]byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
			"m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" + extra))
		return req
	}
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, mp, err := p.checkOffer(offer(""), nil)
	if err != nil || mp.keys != nil || mp.enc != sdp.EncryptionNone {
		t.Fatalf("plain offer: %v, %d keys, policy %v; want accepted without keys", err, len(mp.keys), mp.enc)
	}
	_, mp, err = p.checkOffer(offer(key), nil)
	if err != nil || len(mp.keys) != 1 || mp.keys[0].Suite != srtp.AESCM128HMACSHA132 || mp.enc != sdp.EncryptionSDES {
		t.Fatalf("offer with a=crypto: %v, keys %v, policy %v; want one AES_CM_128_HMAC_SHA1_32 key under SDES", err, mp.keys, mp.enc)
	}
	strict, err := New(Config{MediaEncryption: "sdes-required"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := strict.checkOffer(offer(""), nil); err == nil {
		t.Fatal("sdes-required took a plain offer")
	}
}
