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
