package srtp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// key30 is 30 bytes (AES_CM_128 key||salt) in base64: RFC 4568 §9.2's example key.
const key30 = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"

func TestParseCryptoForms(t *testing.T) {
	cases := []struct {
		in       string
		suite    Suite
		tag      int
		lifetime uint64
		mki      uint64
		mkiLen   int
		wsh      int
	}{
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30, AESCM128HMACSHA180, 1, 0, 0, 0, 0},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20|1:4", AESCM128HMACSHA180, 1, 1 << 20, 1, 4, 0},
		{"2 AES_CM_128_HMAC_SHA1_32 inline:" + key30 + "|2^31", AESCM128HMACSHA132, 2, 1 << 31, 0, 0, 0},
		{"3 AES_CM_128_HMAC_SHA1_32 inline:" + key30 + "|1000", AESCM128HMACSHA132, 3, 1000, 0, 0, 0},
		{"4 AES_CM_128_HMAC_SHA1_80 INLINE:" + key30 + "|7:1 WSH=128", AESCM128HMACSHA180, 4, 0, 7, 1, 128},
		{"5  AES_CM_128_HMAC_SHA1_80\tinline:" + key30 + " -FUTURE_THING", AESCM128HMACSHA180, 5, 0, 0, 0, 0},
		{"6 AEAD_AES_128_GCM inline:" + b64(28), AEADAES128GCM, 6, 0, 0, 0, 0},
		{"7 AEAD_AES_256_GCM inline:" + b64(44), AEADAES256GCM, 7, 0, 0, 0, 0},
		// Key without base64 padding, as some peers send it.
		{"8 AEAD_AES_128_GCM inline:" + strings.TrimRight(b64(28), "="), AEADAES128GCM, 8, 0, 0, 0, 0},
	}
	for _, tc := range cases {
		c, err := ParseCrypto(tc.in)
		if err != nil {
			t.Errorf("ParseCrypto(%q): %v", tc.in, err)
			continue
		}
		if c.Suite != tc.suite || c.Tag != tc.tag || c.Lifetime != tc.lifetime || c.MKI != tc.mki ||
			c.MKILen != tc.mkiLen || c.WSH != tc.wsh || len(c.Key) != tc.suite.KeySaltLen() {
			t.Errorf("ParseCrypto(%q) = %+v", tc.in, c)
		}
		// The formatted value parses back to the same attribute.
		back, err := ParseCrypto(c.String())
		if err != nil || !back.Equal(c) {
			t.Errorf("round trip of %q via %q: %+v, %v", tc.in, c.String(), back, err)
		}
	}
}

func b64(n int) string {
	k := make([]byte, n)
	for i := range k {
		k[i] = byte(i * 7)
	}
	return base64.StdEncoding.EncodeToString(k)
}

func TestParseCryptoErrors(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{"", ErrMalformed},
		{"1 AES_CM_128_HMAC_SHA1_80", ErrMalformed},
		{"x AES_CM_128_HMAC_SHA1_80 inline:" + key30, ErrMalformed},
		{"1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + key30, ErrMalformed},
		{"-1 AES_CM_128_HMAC_SHA1_80 inline:" + key30, ErrMalformed},
		{"1 F8_128_HMAC_SHA1_80 inline:" + key30, ErrUnknownSuite},
		{"1 AES_256_CM_HMAC_SHA1_80 inline:" + b64(46), ErrUnknownSuite},
		{"1 aes_cm_128_hmac_sha1_80 inline:" + key30, ErrUnknownSuite},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:!!notbase64!!", ErrMalformed},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:", ErrMalformed},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(16), ErrMalformed},
		{"1 AEAD_AES_128_GCM inline:" + key30, ErrMalformed},
		{"1 AES_CM_128_HMAC_SHA1_80 " + key30, ErrMalformed},
		{"1 AES_CM_128_HMAC_SHA1_80 uri:" + key30, ErrUnsupported},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^49", ErrMalformed},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^", ErrMalformed},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|0", ErrMalformed},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|3^5", ErrMalformed},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:0", ErrMalformed},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:129", ErrMalformed},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|256:1", ErrMalformed},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|:4", ErrMalformed},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:4|2^20", ErrMalformed},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20|1:4|x", ErrMalformed},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:4;inline:" + key30 + "|2:4", ErrUnsupported},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " UNENCRYPTED_SRTP", ErrUnsupported},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " UNENCRYPTED_SRTCP", ErrUnsupported},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " UNAUTHENTICATED_SRTP", ErrUnsupported},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " KDR=10", ErrUnsupported},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " FEC_ORDER=FEC_SRTP", ErrUnsupported},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " NEW_THING", ErrUnsupported},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " WSH=10", ErrMalformed},
	}
	for _, tc := range cases {
		_, err := ParseCrypto(tc.in)
		if !errors.Is(err, tc.want) {
			t.Errorf("ParseCrypto(%q) = %v, want %v", tc.in, err, tc.want)
			continue
		}
		// No error message repeats a key.
		if strings.Contains(err.Error(), key30) {
			t.Errorf("ParseCrypto(%q) error shows the key: %v", tc.in, err)
		}
	}
}

func TestNewCrypto(t *testing.T) {
	for _, s := range Suites {
		a, err := NewCrypto(1, s)
		if err != nil {
			t.Fatalf("NewCrypto %s: %v", s, err)
		}
		b, _ := NewCrypto(1, s)
		if len(a.Key) != s.KeySaltLen() || bytes.Equal(a.Key, b.Key) {
			t.Errorf("%s: keys %x and %x: want two different %d-byte keys", s, a.Key, b.Key, s.KeySaltLen())
		}
		p, err := ParseCrypto(a.String())
		if err != nil || !p.Equal(a) {
			t.Errorf("%s: %q parses to %+v, %v", s, a.String(), p, err)
		}
		if strings.Contains(a.Masked(), base64.StdEncoding.EncodeToString(a.Key)) || !strings.Contains(a.Masked(), KeyMask) {
			t.Errorf("%s: Masked %q shows the key or no mask", s, a.Masked())
		}
		if got, err := ParseSuite(s.String()); err != nil || got != s {
			t.Errorf("ParseSuite(%q) = %v, %v", s.String(), got, err)
		}
	}
	if _, err := NewCrypto(1, Suite(0)); !errors.Is(err, ErrUnknownSuite) {
		t.Errorf("NewCrypto of suite 0: %v, want ErrUnknownSuite", err)
	}
	if _, err := NewCrypto(-1, AESCM128HMACSHA180); err == nil {
		t.Error("NewCrypto of tag -1: no error")
	}
}

func TestSuiteLengths(t *testing.T) {
	for _, tc := range []struct {
		s                  Suite
		key, salt, authTag int
	}{
		{AESCM128HMACSHA180, 16, 14, 10},
		{AESCM128HMACSHA132, 16, 14, 4},
		{AEADAES128GCM, 16, 12, 16},
		{AEADAES256GCM, 32, 12, 16},
	} {
		if tc.s.KeyLen() != tc.key || tc.s.SaltLen() != tc.salt || tc.s.AuthTagLen() != tc.authTag {
			t.Errorf("%s: key %d salt %d tag %d", tc.s, tc.s.KeyLen(), tc.s.SaltLen(), tc.s.AuthTagLen())
		}
	}
	if Suite(9).String() != "Suite(9)" || Suite(9).KeySaltLen() != 0 {
		t.Errorf("Suite(9): %q, %d", Suite(9), Suite(9).KeySaltLen())
	}
}

func TestMaskCryptoLines(t *testing.T) {
	msg := "INVITE sip:bob@example.com SIP/2.0\r\nContent-Type: application/sdp\r\n\r\n" +
		"v=0\r\nm=audio 4000 RTP/SAVP 0\r\n" +
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^31|1:4\r\n" +
		"a=crypto:2 AEAD_AES_128_GCM Inline:" + b64(28) + "\r\n" +
		"a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:" + key30 + ";inline:" + key30 + " WSH=64\n" +
		"a=crypto:4 AES_CM_128_HMAC_SHA1_32 inline:" + key30
	got := string(MaskCryptoLines([]byte(msg)))
	if strings.Contains(got, key30) || strings.Contains(got, b64(28)) {
		t.Fatalf("a key survived:\n%s", got)
	}
	if n := strings.Count(got, KeyMask); n != 5 {
		t.Errorf("%d masks, want 5:\n%s", n, got)
	}
	for _, keep := range []string{"|2^31|1:4\r\n", "m=audio 4000 RTP/SAVP 0\r\n", " WSH=64\n", "INVITE sip:bob@example.com"} {
		if !strings.Contains(got, keep) {
			t.Errorf("%q lost:\n%s", keep, got)
		}
	}
	plain := []byte("REGISTER sip:example.com SIP/2.0\r\n\r\n")
	if out := MaskCryptoLines(plain); &out[0] != &plain[0] {
		t.Error("a message with no key was copied")
	}
	if MaskCryptoString("x inline:") != "x inline:" {
		t.Error("an empty key grew a mask")
	}
	if again := string(MaskCryptoLines([]byte(got))); again != got {
		t.Errorf("masking masked text changed it:\n%s\nbecame\n%s", got, again)
	}
}
