// Package srtp is dialtone's Secure RTP (RFC 3711) with keys exchanged in SDP (SDES, RFC 4568):
// the a=crypto attribute (parse, format, mask), key generation, and per-stream contexts that
// protect and unprotect RTP and RTCP in place, counting what they drop. It knows nothing about
// SIP; phone/sdp negotiates the attributes and phone/media runs the contexts.
package srtp

import (
	"bytes"
	"errors"
	"fmt"
)

// Suite is an SRTP crypto suite as named in a=crypto (RFC 4568 §6.2, RFC 7714 §14.2).
type Suite uint8

// The suites dialtone offers and accepts, best first in the order the offer lists them.
const (
	AEADAES256GCM      Suite = iota + 1 // AEAD_AES_256_GCM (RFC 7714)
	AEADAES128GCM                       // AEAD_AES_128_GCM (RFC 7714)
	AESCM128HMACSHA180                  // AES_CM_128_HMAC_SHA1_80 (RFC 4568), the one every peer has
	AESCM128HMACSHA132                  // AES_CM_128_HMAC_SHA1_32 (RFC 4568)
)

// Suites lists every suite dialtone supports, best first: the order an offer lists them in.
var Suites = []Suite{AEADAES256GCM, AEADAES128GCM, AESCM128HMACSHA180, AESCM128HMACSHA132}

// ErrUnknownSuite is returned for an a=crypto line whose suite dialtone does not support: an
// answerer skips that line and looks at the next one (RFC 4568 §7.1.1).
var ErrUnknownSuite = errors.New("unknown SRTP crypto suite")

// ErrUnsupported is returned for an a=crypto line that is well formed but asks for something
// dialtone does not do (several master keys, unencrypted SRTP, FEC, a key derivation rate):
// an answerer skips that line too.
var ErrUnsupported = errors.New("unsupported a=crypto feature")

// ErrMalformed is returned for an a=crypto value that breaks RFC 4568's grammar or carries a
// key of the wrong length for its suite.
var ErrMalformed = errors.New("malformed a=crypto")

// suiteInfo is what a suite needs: its SDP name and its master key, master salt and
// authentication tag lengths in bytes.
type suiteInfo struct {
	name               string
	key, salt, authTag int
	aead               bool
}

var suiteInfos = [...]suiteInfo{
	AEADAES256GCM:      {"AEAD_AES_256_GCM", 32, 12, 16, true},
	AEADAES128GCM:      {"AEAD_AES_128_GCM", 16, 12, 16, true},
	AESCM128HMACSHA180: {"AES_CM_128_HMAC_SHA1_80", 16, 14, 10, false},
	AESCM128HMACSHA132: {"AES_CM_128_HMAC_SHA1_32", 16, 14, 4, false},
}

func (s Suite) info() (suiteInfo, bool) {
	if s == 0 || int(s) >= len(suiteInfos) {
		return suiteInfo{}, false
	}
	return suiteInfos[s], true
}

// Valid reports whether s is one of the suites dialtone supports.
func (s Suite) Valid() bool { _, ok := s.info(); return ok }

// String is the suite's name as a=crypto spells it.
func (s Suite) String() string {
	if i, ok := s.info(); ok {
		return i.name
	}
	return fmt.Sprintf("Suite(%d)", uint8(s))
}

// ParseSuite returns the suite a=crypto names name (case-sensitive, as RFC 4568 registers
// them); an unsupported name gives an error wrapping ErrUnknownSuite.
func ParseSuite(name string) (Suite, error) {
	for _, s := range Suites {
		if suiteInfos[s].name == name {
			return s, nil
		}
	}
	return 0, fmt.Errorf("%w %q", ErrUnknownSuite, name)
}

// KeyLen is the suite's master key length in bytes (0 for an unknown suite).
func (s Suite) KeyLen() int { i, _ := s.info(); return i.key }

// SaltLen is the suite's master salt length in bytes (0 for an unknown suite).
func (s Suite) SaltLen() int { i, _ := s.info(); return i.salt }

// KeySaltLen is the length of the inline key-params' key||salt (0 for an unknown suite).
func (s Suite) KeySaltLen() int { i, _ := s.info(); return i.key + i.salt }

// AuthTagLen is the bytes SRTP appends to each RTP packet: the HMAC tag or the AEAD tag.
func (s Suite) AuthTagLen() int { i, _ := s.info(); return i.authTag }

// AEAD reports whether the suite is AES-GCM (RFC 7714), whose SRTCP tag is also 16 bytes.
func (s Suite) AEAD() bool { i, _ := s.info(); return i.aead }

// Crypto is one a=crypto attribute: "tag suite inline:key||salt[|lifetime][|MKI:len] [params]".
type Crypto struct {
	Tag   int
	Suite Suite
	// Key is the master key followed by the master salt, as the inline key-params carry them.
	Key []byte
	// Lifetime is the master key's lifetime in packets, 0 when the attribute gives none (the
	// suite's maximum, 2^48 for SRTP).
	Lifetime uint64
	// MKI is the master key identifier's value and MKILen its length in bytes on the wire
	// (RFC 3711 §3.1); MKILen 0 means no MKI in the packets.
	MKI    uint64
	MKILen int
	// WSH is the replay window size hint (RFC 4568 §6.3.7), 0 when absent: a hint only.
	WSH int
}

// Keys is what a call's SDP negotiated for one media stream: we protect what we send with
// Local (our a=crypto) and unprotect what we receive with Remote (theirs), RFC 4568 §6.1.
type Keys struct {
	Local, Remote Crypto
}

// Equal reports whether k and o hold the same keys and parameters.
func (k Keys) Equal(o Keys) bool { return k.Local.Equal(o.Local) && k.Remote.Equal(o.Remote) }

// SameKey reports whether c and o are the same master key (suite, key and salt, MKI): a
// re-INVITE that names it again keeps the running context, with its rollover counter, SRTCP
// index and replay window, whatever tag, lifetime or window hint it comes with now. (Our own
// key goes out under the tag of whichever offer it answers or is offered in; a fresh context
// for the same key would restart the counters, reusing keystream, RFC 3711 9.1, and a peer
// that kept its context could not authenticate anything sent after the sequence wrapped.)
func (c Crypto) SameKey(o Crypto) bool {
	return c.Suite == o.Suite && c.MKI == o.MKI && c.MKILen == o.MKILen && bytes.Equal(c.Key, o.Key)
}

// Equal reports whether c and o describe the same master key and parameters.
func (c Crypto) Equal(o Crypto) bool {
	if c.Tag != o.Tag || c.Suite != o.Suite || c.Lifetime != o.Lifetime || c.MKI != o.MKI ||
		c.MKILen != o.MKILen || c.WSH != o.WSH || len(c.Key) != len(o.Key) {
		return false
	}
	for i := range c.Key {
		if c.Key[i] != o.Key[i] {
			return false
		}
	}
	return true
}
