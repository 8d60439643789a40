package sdp

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/phone/srtp"
)

// testKey is a fixed key (so golden answers stay put): seed, seed+1, ...
func testKey(tag int, s srtp.Suite, seed byte) srtp.Crypto {
	k := make([]byte, s.KeySaltLen())
	for i := range k {
		k[i] = seed + byte(i)
	}
	return srtp.Crypto{Tag: tag, Suite: s, Key: k}
}

// sdesLocal is testLocal with policy e and, unless none, keys for both AES-CM suites.
func sdesLocal(e Encryption, seed byte) Local {
	l := testLocal()
	l.Encryption = e
	if e != EncryptionNone {
		l.Crypto = []srtp.Crypto{testKey(1, srtp.AESCM128HMACSHA180, seed), testKey(2, srtp.AESCM128HMACSHA132, seed+64)}
	}
	return l
}

// TestPolicyMatrix plays every pair of policies: our Offer, answered by our Answer, accepted
// by our Accept; encrypted calls must end with each side's keys crossed.
func TestPolicyMatrix(t *testing.T) {
	const none, sdes, req = EncryptionNone, EncryptionSDES, EncryptionSDESRequired
	tests := []struct {
		offerer, answerer Encryption
		proto             string // of the offer and the answer
		secure            bool
		err               error
	}{
		{none, none, "RTP/AVP", false, nil},
		{none, sdes, "RTP/AVP", false, nil},
		{none, req, "RTP/AVP", false, ErrEncryptionRequired},
		{sdes, none, "RTP/AVP", false, nil},
		{sdes, sdes, "RTP/AVP", true, nil},
		{sdes, req, "RTP/AVP", true, nil},
		{req, none, "RTP/SAVP", false, ErrEncryptionOff},
		{req, sdes, "RTP/SAVP", true, nil},
		{req, req, "RTP/SAVP", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.offerer.String()+"→"+tt.answerer.String(), func(t *testing.T) {
			alice, bob := sdesLocal(tt.offerer, 0x10), sdesLocal(tt.answerer, 0x80)
			bob.Addr = "198.51.100.20"
			// Bob prefers the 32-bit tag; the offerer's order wins (RFC 4568 §7.1.2).
			bob.Crypto = []srtp.Crypto{testKey(7, srtp.AESCM128HMACSHA132, 0xA0), testKey(8, srtp.AESCM128HMACSHA180, 0xC0)}
			if tt.answerer == none {
				bob.Crypto = nil
			}
			offer, err := Offer(alice)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(offer)
			if err != nil || m.Proto != tt.proto || len(m.Crypto) != len(alice.Crypto) {
				t.Fatalf("offer: %v %+v\n%s", err, m, offer)
			}
			ans, nb, err := Answer(offer, bob)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Answer: err = %v, want %v", err, tt.err)
			}
			if err != nil {
				r, ok := AsRefusal(err)
				if !ok || r.Code != 488 || r.Reason == "" || r.WarnCode != 302 {
					t.Errorf("refusal %#v", r)
				}
				return
			}
			na, err := Accept(alice, ans)
			if err != nil {
				t.Fatalf("Accept: %v\n%s", err, ans)
			}
			if na.Proto != tt.proto || nb.Proto != tt.proto {
				t.Errorf("proto: offerer %s answerer %s, want %s", na.Proto, nb.Proto, tt.proto)
			}
			if (na.SRTP != nil) != tt.secure || (nb.SRTP != nil) != tt.secure {
				t.Fatalf("SRTP: offerer %+v answerer %+v, want secure %v", na.SRTP, nb.SRTP, tt.secure)
			}
			if !tt.secure {
				if bytes.Contains(ans, []byte("a=crypto")) {
					t.Errorf("plain answer with a=crypto:\n%s", ans)
				}
				return
			}
			a, b := *na.SRTP, *nb.SRTP
			if !a.Local.Equal(alice.Crypto[0]) || !b.Remote.Equal(alice.Crypto[0]) {
				t.Errorf("alice's first key (tag 1, the first suite bob has) not used: %v / %v", a.Local.Masked(), b.Remote.Masked())
			}
			if !a.Remote.Equal(b.Local) || b.Local.Tag != 1 || b.Local.Suite != srtp.AESCM128HMACSHA180 || !bytes.Equal(b.Local.Key, bob.Crypto[1].Key) {
				t.Errorf("bob's key: sent %v, alice got %v", b.Local.Masked(), a.Remote.Masked())
			}
		})
	}
}

// offerWith is an offer of PCMU over proto with the given a=crypto values.
func offerWith(proto string, crypto ...string) []byte {
	s := "v=0\r\no=- 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\nm=audio 4000 " + proto + " 0\r\n"
	for _, c := range crypto {
		s += "a=crypto:" + c + "\r\n"
	}
	return []byte(s)
}

func TestAnswerCrypto(t *testing.T) {
	const good80 = "AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
	const good32 = "AES_CM_128_HMAC_SHA1_32 inline:t0r0/apkukU7JjjfR0mY8GEimBq4OiPEm9eKSFOx"
	only32 := sdesLocal(EncryptionSDES, 1)
	only32.Crypto = only32.Crypto[1:]
	tests := []struct {
		name   string
		offer  []byte
		local  Local
		err    error
		tag    int // of the accepted line; 0: plain
		suite  srtp.Suite
		reason string // the refusal's Reason
	}{
		{"savp good", offerWith("RTP/SAVP", "1 "+good80), sdesLocal(EncryptionSDES, 1), nil, 1, srtp.AESCM128HMACSHA180, ""},
		{"savp second of two", offerWith("RTP/SAVP", "1 "+good80, "2 "+good32), only32, nil, 2, srtp.AESCM128HMACSHA132, ""},
		{"savp bad base64", offerWith("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_80 inline:!!!notbase64!!!"), sdesLocal(EncryptionSDES, 1), ErrBadCrypto, 0, 0, "Malformed a=crypto"},
		{"savp short key", offerWith("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_80 inline:AAAA"), sdesLocal(EncryptionSDES, 1), ErrBadCrypto, 0, 0, "Malformed a=crypto"},
		{"savp malformed then good", offerWith("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_80 inline:AAAA", "2 "+good32), sdesLocal(EncryptionSDES, 1), nil, 2, srtp.AESCM128HMACSHA132, ""},
		{"savp unknown suite then good", offerWith("RTP/SAVP", "1 F8_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", "3 "+good80), sdesLocal(EncryptionSDES, 1), nil, 3, srtp.AESCM128HMACSHA180, ""},
		{"savp only unknown suite", offerWith("RTP/SAVP", "1 F8_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"), sdesLocal(EncryptionSDES, 1), ErrNoCommonSuite, 0, 0, "No common SRTP crypto suite"},
		{"savp unsupported feature", offerWith("RTP/SAVP", "1 "+good80+" UNENCRYPTED_SRTP"), sdesLocal(EncryptionSDES, 1), ErrNoCommonSuite, 0, 0, "No common SRTP crypto suite"},
		{"savp suite we hold no key for", offerWith("RTP/SAVP", "1 "+good80), only32, ErrNoCommonSuite, 0, 0, "No common SRTP crypto suite"},
		{"savp without crypto", offerWith("RTP/SAVP"), sdesLocal(EncryptionSDES, 1), ErrBadCrypto, 0, 0, "Malformed a=crypto"},
		{"savp under none", offerWith("RTP/SAVP", "1 "+good80), testLocal(), ErrEncryptionOff, 0, 0, "SRTP offered but media encryption is off"},
		{"avp best effort", offerWith("RTP/AVP", "1 "+good80), sdesLocal(EncryptionSDES, 1), nil, 1, srtp.AESCM128HMACSHA180, ""},
		{"avp best effort declined", offerWith("RTP/AVP", "1 "+good80), testLocal(), nil, 0, 0, ""},
		{"avp malformed: plain", offerWith("RTP/AVP", "1 AES_CM_128_HMAC_SHA1_80 inline:AAAA"), sdesLocal(EncryptionSDES, 1), nil, 0, 0, ""},
		{"avp malformed, required", offerWith("RTP/AVP", "1 AES_CM_128_HMAC_SHA1_80 inline:AAAA"), sdesLocal(EncryptionSDESRequired, 1), ErrBadCrypto, 0, 0, "Malformed a=crypto"},
		{"avp plain, required", offerWith("RTP/AVP"), sdesLocal(EncryptionSDESRequired, 1), ErrEncryptionRequired, 0, 0, "SRTP required by policy"},
		// A call that settled SRTP as RTP/AVP with keys under sdes-required: a later plain offer is refused.
		{"avp plain, keys required", offerWith("RTP/AVP"), keysRequired(sdesLocal(EncryptionSDES, 1)), ErrEncryptionRequired, 0, 0, "SRTP required by policy"},
		{"avp best effort, keys required", offerWith("RTP/AVP", "1 "+good80), keysRequired(sdesLocal(EncryptionSDES, 1)), nil, 1, srtp.AESCM128HMACSHA180, ""},
		{"avpf best effort", offerWith("RTP/AVPF", "1 "+good80), sdesLocal(EncryptionSDES, 1), nil, 1, srtp.AESCM128HMACSHA180, ""},
		{"savpf", offerWith("RTP/SAVPF", "5 "+good80), sdesLocal(EncryptionSDESRequired, 1), nil, 5, srtp.AESCM128HMACSHA180, ""},
		{"dtls", offerWith("UDP/TLS/RTP/SAVP"), sdesLocal(EncryptionSDES, 1), ErrNoCommonCodec, 0, 0, "No common audio codec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, n, err := Answer(tt.offer, tt.local)
			o, perr := ParseOffer(tt.offer)
			if perr != nil {
				t.Fatal(perr)
			}
			if cerr := o.Check(tt.local); (cerr == nil) != (err == nil) {
				t.Errorf("Check: %v, Answer: %v", cerr, err)
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				r, ok := AsRefusal(err)
				if !ok || r.Reason != tt.reason || r.Code != 488 || r.WarnCode == 0 {
					t.Fatalf("refusal %#v, want reason %q", r, tt.reason)
				}
				if strings.Contains(err.Error(), "WVNfX19z") || strings.Contains(err.Error(), "t0r0") {
					t.Errorf("error shows a key: %v", err)
				}
				return
			}
			m, err := Parse(ans)
			if err != nil {
				t.Fatal(err)
			}
			if om, err := Parse(tt.offer); err != nil || m.Proto != om.Proto || n.Proto != om.Proto {
				t.Errorf("answer proto %s, negotiated %s, offer's %+v (%v)", m.Proto, n.Proto, om, err)
			}
			if tt.tag == 0 {
				if n.SRTP != nil || len(m.Crypto) != 0 {
					t.Errorf("plain wanted: %+v, answer crypto %d lines", n.SRTP, len(m.Crypto))
				}
				return
			}
			if n.SRTP == nil || len(m.Crypto) != 1 {
				t.Fatalf("SRTP %+v, answer %d a=crypto", n.SRTP, len(m.Crypto))
			}
			got, err := srtp.ParseCrypto(m.Crypto[0])
			if err != nil || got.Tag != tt.tag || got.Suite != tt.suite || !got.Equal(n.SRTP.Local) || n.SRTP.Remote.Tag != tt.tag {
				t.Errorf("answer a=crypto %v (%v), negotiated %v/%v, want tag %d %s", got.Masked(), err, n.SRTP.Local.Masked(), n.SRTP.Remote.Masked(), tt.tag, tt.suite)
			}
		})
	}
}

// TestCryptoSuites: the suites an offer names in a=crypto lines that parse, each once in the
// offer's order; malformed lines, unknown suites and other media name none.
func TestCryptoSuites(t *testing.T) {
	const good80 = "AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
	const good32 = "AES_CM_128_HMAC_SHA1_32 inline:t0r0/apkukU7JjjfR0mY8GEimBq4OiPEm9eKSFOx"
	video := "m=video 4002 RTP/SAVP 96\r\na=crypto:1 " + good32 + "\r\n"
	tests := []struct {
		name  string
		offer []byte
		want  []srtp.Suite
	}{
		{"plain", offerWith("RTP/AVP"), nil},
		{"one", offerWith("RTP/SAVP", "1 "+good80), []srtp.Suite{srtp.AESCM128HMACSHA180}},
		{"two, offer's order, once each", offerWith("RTP/SAVP", "1 "+good32, "2 "+good80, "3 "+good32), []srtp.Suite{srtp.AESCM128HMACSHA132, srtp.AESCM128HMACSHA180}},
		{"malformed and unknown skipped", offerWith("RTP/AVP", "1 AES_CM_128_HMAC_SHA1_80 inline:AAAA", "2 F8_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"), nil},
		{"video's keys are not audio's", append(offerWith("RTP/SAVP", "1 "+good80), video...), []srtp.Suite{srtp.AESCM128HMACSHA180}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ParseOffer(tt.offer)
			if err != nil {
				t.Fatal(err)
			}
			if got := o.CryptoSuites(); !slices.Equal(got, tt.want) {
				t.Errorf("CryptoSuites() = %v, want %v", got, tt.want)
			}
		})
	}
}

// keysRequired is l as a call that settled SRTP under sdes-required has it (Local.KeysRequired).
func keysRequired(l Local) Local {
	l.KeysRequired = true
	return l
}
