// Package srtp is dialtone's Secure RTP (RFC 3711) with keys exchanged in SDP (SDES, RFC 4568):
// the a=crypto attribute (parse, format, mask), key generation, and per-stream contexts that
// protect and unprotect RTP and RTCP in place, counting what they drop. It knows nothing about
// SIP; phone/sdp negotiates the attributes and phone/media runs the contexts.
package srtp

// Suite is an SRTP crypto suite as named in a=crypto (RFC 4568 §6.2, RFC 7714 §14.2).
type Suite uint8

// The suites dialtone offers and accepts, best first in the order the offer lists them.
const (
	AEADAES256GCM      Suite = iota + 1 // AEAD_AES_256_GCM (RFC 7714)
	AEADAES128GCM                       // AEAD_AES_128_GCM (RFC 7714)
	AESCM128HMACSHA180                  // AES_CM_128_HMAC_SHA1_80 (RFC 4568), the one every peer has
	AESCM128HMACSHA132                  // AES_CM_128_HMAC_SHA1_32 (RFC 4568)
)

// Crypto is one a=crypto attribute: "tag suite inline:key||salt[|lifetime][|MKI:len] [params]".
type Crypto struct {
	Tag   int
	Suite Suite
	// Key is the master key followed by the master salt, as the inline key-params carry them.
	Key []byte
}

// Keys is what a call's SDP negotiated for one media stream: we protect what we send with
// Local (our a=crypto) and unprotect what we receive with Remote (theirs), RFC 4568 §6.1.
type Keys struct {
	Local, Remote Crypto
}
