package srtp

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// FuzzParseCrypto: any value parses or gives one of the three errors, never panics; what
// parses formats back to an equal attribute, and neither the masked form nor a masked copy
// of the input shows the key.
func FuzzParseCrypto(f *testing.F) {
	for _, s := range []string{
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20|1:4",
		"2 AEAD_AES_256_GCM inline:" + b64(44) + " WSH=64",
		"3 AES_CM_128_HMAC_SHA1_32 inline:" + key30 + ";inline:" + key30 + " KDR=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseCrypto(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownSuite) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("ParseCrypto(%q): untyped error %v", in, err)
			}
			return
		}
		back, err := ParseCrypto(c.String())
		if err != nil || !back.Equal(c) {
			t.Fatalf("ParseCrypto(%q) = %+v formats as %q, which parses to %+v, %v", in, c, c.String(), back, err)
		}
		key := base64.RawStdEncoding.EncodeToString(c.Key)
		if strings.Contains(c.Masked(), key) {
			t.Fatalf("Masked %q shows the key", c.Masked())
		}
		if strings.Contains(MaskCryptoString("a=crypto:"+in+"\r\n"), key) {
			t.Fatalf("MaskCryptoString of %q shows the key", in)
		}
	})
}
