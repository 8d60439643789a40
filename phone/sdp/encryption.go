package sdp

import (
	"fmt"
	"strings"
)

// Encryption is a media encryption policy, as an account's media_encryption sets it.
type Encryption int

const (
	// EncryptionNone offers plain RTP/AVP and refuses RTP/SAVP offers; a best-effort
	// RTP/AVP offer with a=crypto is answered plain.
	EncryptionNone Encryption = iota
	// EncryptionSDES offers RTP/AVP with a=crypto (the best-effort form every SDES peer
	// understands) and accepts SRTP or plain RTP, preferring SRTP.
	EncryptionSDES
	// EncryptionSDESRequired offers RTP/SAVP with a=crypto and refuses plain RTP.
	EncryptionSDESRequired
)

var encryptionNames = [...]string{"none", "sdes", "sdes-required"}

func (e Encryption) String() string {
	if e < 0 || int(e) >= len(encryptionNames) {
		return fmt.Sprintf("Encryption(%d)", int(e))
	}
	return encryptionNames[e]
}

// ParseEncryption parses a policy name: "none", "sdes" or "sdes-required" (any case).
func ParseEncryption(s string) (Encryption, error) {
	for i, n := range encryptionNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Encryption(i), nil
		}
	}
	return 0, fmt.Errorf("sdp: unknown media encryption %q (want none, sdes or sdes-required)", s)
}

// MarshalText and UnmarshalText let config files carry the policy by name.
func (e Encryption) MarshalText() ([]byte, error) {
	if e < 0 || int(e) >= len(encryptionNames) {
		return nil, fmt.Errorf("sdp: bad media encryption %d", int(e))
	}
	return []byte(e.String()), nil
}

func (e *Encryption) UnmarshalText(b []byte) error {
	v, err := ParseEncryption(string(b))
	if err != nil {
		return err
	}
	*e = v
	return nil
}

// proto is the transport our offers use under the policy.
func (e Encryption) proto() string {
	if e == EncryptionSDESRequired {
		return "RTP/SAVP"
	}
	return "RTP/AVP"
}

// supportedProto reports the m= transports we answer and accept: AVP and its feedback
// profile (whose RTCP rules are compatible with AVP's, RFC 4585 §5), with or without SRTP.
func supportedProto(p string) bool {
	return p == "RTP/AVP" || p == "RTP/AVPF" || p == "RTP/SAVP" || p == "RTP/SAVPF"
}

// secureProto reports an SRTP transport (RFC 3711 §12).
func secureProto(p string) bool { return p == "RTP/SAVP" || p == "RTP/SAVPF" }
