package srtp

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// maxLifetime is SRTP's largest master key lifetime, 2^48 packets (RFC 3711 §9.2); RFC 4568
// §6.1 lets a=crypto state a shorter one.
const maxLifetime = 1 << 48

// maxMKILen is the largest MKI length a=crypto can state (RFC 4568 §9.1: 1 to 128 bytes).
const maxMKILen = 128

// KeyMask replaces every inline key in what Masked and MaskCryptoLines return.
const KeyMask = "<key hidden>"

// NewCrypto returns an a=crypto attribute with the given tag and suite and a fresh master key
// and salt from crypto/rand, for an offer or answer.
func NewCrypto(tag int, s Suite) (Crypto, error) {
	if tag < 0 || tag > 999999999 {
		return Crypto{}, fmt.Errorf("new a=crypto: tag %d out of range 0-999999999", tag)
	}
	if !s.Valid() {
		return Crypto{}, fmt.Errorf("new a=crypto: %w %s", ErrUnknownSuite, s)
	}
	key := make([]byte, s.KeySaltLen())
	if _, err := rand.Read(key); err != nil {
		return Crypto{}, fmt.Errorf("new a=crypto %s key: %w", s, err)
	}
	return Crypto{Tag: tag, Suite: s, Key: key}, nil
}

// ParseCrypto parses an a=crypto attribute value (what follows "a=crypto:"), RFC 4568 §9.1:
//
//	1 AES_CM_128_HMAC_SHA1_80 inline:<base64 key||salt>[|2^31][|1:4] [session params]
//
// An unsupported suite gives an error wrapping ErrUnknownSuite; a well-formed line asking for
// something dialtone does not do, ErrUnsupported; anything else, ErrMalformed. The first two
// let an answerer skip the line and try the next.
func ParseCrypto(value string) (Crypto, error) {
	var c Crypto
	fields := strings.FieldsFunc(value, func(r rune) bool { return r == ' ' || r == '\t' })
	if len(fields) < 3 {
		return c, fmt.Errorf("%w: %d fields, want \"tag suite inline:key\"", ErrMalformed, len(fields))
	}
	tag, err := parseDigits(fields[0], 9)
	if err != nil {
		return c, fmt.Errorf("%w: tag %q: %v", ErrMalformed, fields[0], err)
	}
	c.Tag = int(tag)
	if c.Suite, err = ParseSuite(fields[1]); err != nil {
		return c, fmt.Errorf("a=crypto tag %d: %w", c.Tag, err)
	}
	if err := c.parseKeyParams(fields[2]); err != nil {
		return c, fmt.Errorf("a=crypto tag %d %s: %w", c.Tag, c.Suite, err)
	}
	for _, p := range fields[3:] {
		if err := c.parseSessionParam(p); err != nil {
			return c, fmt.Errorf("a=crypto tag %d %s: %w", c.Tag, c.Suite, err)
		}
	}
	return c, nil
}

// parseKeyParams parses "inline:key||salt[|lifetime][|mki:len]": one master key only, as
// several (";"-separated, told apart by MKI) would need per-packet key selection.
func (c *Crypto) parseKeyParams(kp string) error {
	if strings.Contains(kp, ";") {
		return fmt.Errorf("%w: several master keys", ErrUnsupported)
	}
	method, info, ok := strings.Cut(kp, ":")
	if !ok {
		return fmt.Errorf("%w: key-params: want \"inline:key\"", ErrMalformed)
	}
	if !strings.EqualFold(method, "inline") {
		return fmt.Errorf("%w: key method %q (only inline)", ErrUnsupported, method)
	}
	parts := strings.Split(info, "|")
	if len(parts) > 3 {
		return fmt.Errorf("%w: key-params: %d \"|\" fields, at most 3", ErrMalformed, len(parts))
	}
	if err := c.parseKey(parts[0]); err != nil {
		return err
	}
	rest := parts[1:]
	if len(rest) > 0 && !strings.Contains(rest[0], ":") {
		if err := c.parseLifetime(rest[0]); err != nil {
			return err
		}
		rest = rest[1:]
	}
	if len(rest) > 0 {
		if err := c.parseMKI(rest[0]); err != nil {
			return err
		}
		rest = rest[1:]
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: key-params: %q after the MKI", ErrMalformed, rest[0])
	}
	return nil
}

// parseKey decodes the base64 key||salt (padding optional: some peers leave it off) and
// checks its length against the suite's.
func (c *Crypto) parseKey(s string) error {
	key, err := base64.RawStdEncoding.Strict().DecodeString(strings.TrimRight(s, "="))
	if err != nil || s == "" {
		return fmt.Errorf("%w: inline key is not base64", ErrMalformed)
	}
	if want := c.Suite.KeySaltLen(); len(key) != want {
		return fmt.Errorf("%w: inline key||salt is %d bytes, %s needs %d", ErrMalformed, len(key), c.Suite, want)
	}
	c.Key = key
	return nil
}

// parseLifetime parses "2^n" or a decimal packet count, at most 2^48.
func (c *Crypto) parseLifetime(s string) error {
	if exp, ok := strings.CutPrefix(s, "2^"); ok {
		n, err := parseDigits(exp, 2)
		if err != nil || n > 48 {
			return fmt.Errorf("%w: lifetime %q: want 2^0 to 2^48", ErrMalformed, s)
		}
		c.Lifetime = 1 << n
		return nil
	}
	n, err := parseDigits(s, 15)
	if err != nil || n == 0 || n > maxLifetime {
		return fmt.Errorf("%w: lifetime %q: want 1 to 2^48 packets", ErrMalformed, s)
	}
	c.Lifetime = n
	return nil
}

// parseMKI parses "value:length", the length 1 to 128 bytes and the value fitting in it.
func (c *Crypto) parseMKI(s string) error {
	v, l, _ := strings.Cut(s, ":")
	n, err := parseDigits(l, 3)
	if err != nil || n < 1 || n > maxMKILen {
		return fmt.Errorf("%w: MKI %q: length must be 1 to 128 bytes", ErrMalformed, s)
	}
	val, err := parseDigits(v, 20)
	if err != nil {
		if v != "" && strings.Trim(v, "0123456789") == "" {
			return fmt.Errorf("%w: MKI value %s larger than 64 bits", ErrUnsupported, v)
		}
		return fmt.Errorf("%w: MKI %q: value must be digits", ErrMalformed, s)
	}
	if n < 8 && val>>(8*n) != 0 {
		return fmt.Errorf("%w: MKI value %d does not fit in %d bytes", ErrMalformed, val, n)
	}
	c.MKI, c.MKILen = val, int(n)
	return nil
}

// parseSessionParam accepts a window size hint and an unknown parameter marked optional with
// "-" (RFC 4568 §6.3); the rest change how SRTP runs in ways dialtone does not do.
func (c *Crypto) parseSessionParam(p string) error {
	name, val, _ := strings.Cut(p, "=")
	switch {
	case name == "WSH":
		n, err := parseDigits(val, 9)
		if err != nil || n < 64 {
			return fmt.Errorf("%w: %q: window size hint must be at least 64", ErrMalformed, p)
		}
		c.WSH = int(n)
		return nil
	case strings.HasPrefix(name, "-") && len(name) > 1:
		return nil
	case name == "KDR", name == "UNENCRYPTED_SRTP", name == "UNENCRYPTED_SRTCP",
		name == "UNAUTHENTICATED_SRTP", name == "FEC_ORDER", name == "FEC_KEY":
		return fmt.Errorf("%w: session parameter %s", ErrUnsupported, name)
	}
	return fmt.Errorf("%w: unknown session parameter %q", ErrUnsupported, name)
}

// parseDigits parses 1 to max decimal digits, nothing else (no sign, no spaces).
func parseDigits(s string, max int) (uint64, error) {
	if s == "" || len(s) > max {
		return 0, fmt.Errorf("want 1 to %d digits", max)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("want digits")
		}
	}
	return strconv.ParseUint(s, 10, 64)
}

// String formats c as an a=crypto attribute value, the key in base64 with padding.
func (c Crypto) String() string { return c.format(base64.StdEncoding.EncodeToString(c.Key)) }

// Masked is String with the key replaced by KeyMask, for logs, events and traces.
func (c Crypto) Masked() string { return c.format(KeyMask) }

func (c Crypto) format(key string) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(c.Tag))
	b.WriteByte(' ')
	b.WriteString(c.Suite.String())
	b.WriteString(" inline:")
	b.WriteString(key)
	if c.Lifetime != 0 {
		b.WriteByte('|')
		if bits.OnesCount64(c.Lifetime) == 1 {
			b.WriteString("2^")
			b.WriteString(strconv.Itoa(bits.TrailingZeros64(c.Lifetime)))
		} else {
			b.WriteString(strconv.FormatUint(c.Lifetime, 10))
		}
	}
	if c.MKILen != 0 {
		fmt.Fprintf(&b, "|%d:%d", c.MKI, c.MKILen)
	}
	if c.WSH != 0 {
		fmt.Fprintf(&b, " WSH=%d", c.WSH)
	}
	return b.String()
}

// MKIBytes is the MKI as it appears in each packet: its value big-endian in MKILen bytes.
func (c Crypto) MKIBytes() []byte {
	if c.MKILen == 0 {
		return nil
	}
	b := make([]byte, c.MKILen)
	v := c.MKI
	for i := len(b) - 1; i >= 0 && v != 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return b
}

var inlineTag = []byte("inline:")

// MaskCryptoLines returns text (a SIP message, an SDP body, a log line) with every inline
// key replaced by KeyMask, so keys never reach a trace. The key is what follows "inline:"
// (any case) up to "|", ";", white space or the end. text itself is returned, unchanged and
// not copied, when it holds no key. Masking masked text changes nothing.
func MaskCryptoLines(text []byte) []byte {
	i := indexFold(text, inlineTag)
	if i < 0 {
		return text
	}
	out := make([]byte, 0, len(text)+len(KeyMask))
	for i >= 0 {
		start := i + len(inlineTag)
		out = append(out, text[:start]...)
		end := start
		for end < len(text) && !keyEnd(text[end]) {
			end++
		}
		if bytes.HasPrefix(text[start:], []byte(KeyMask)) {
			end = start + len(KeyMask) // masked already (the mask holds a space): leave it as it is
		}
		if end > start {
			out = append(out, KeyMask...)
		}
		text = text[end:]
		i = indexFold(text, inlineTag)
	}
	return append(out, text...)
}

// MaskCryptoString is MaskCryptoLines for a string.
func MaskCryptoString(text string) string {
	if indexFold([]byte(text), inlineTag) < 0 {
		return text
	}
	return string(MaskCryptoLines([]byte(text)))
}

func keyEnd(b byte) bool {
	return b == '|' || b == ';' || b == ' ' || b == '\t' || b == '\r' || b == '\n'
}

// indexFold is bytes.Index ignoring ASCII case of lower-case sep.
func indexFold(s, sep []byte) int {
	for i := 0; i+len(sep) <= len(s); i++ {
		if bytes.EqualFold(s[i:i+len(sep)], sep) {
			return i
		}
	}
	return -1
}
