package sdp

import "strings"

// The package may not import net or net/netip (see phone/imports_test.go), so IP literals
// are checked here; addr_test.go cross-checks these against net/netip.

// isIPv4 reports whether s is a dotted-quad IPv4 literal. Leading zeros are refused, as
// net/netip does, because some stacks read them as octal.
func isIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 || len(p) > 1 && p[0] == '0' {
			return false
		}
		n := 0
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
			n = n*10 + int(p[i]-'0')
		}
		if n > 255 {
			return false
		}
	}
	return true
}

// isIPv6 reports whether s is an IPv6 literal without zone (SDP has no zones).
func isIPv6(s string) bool {
	groups := 0
	if i := strings.LastIndexByte(s, ':'); i >= 0 && strings.Contains(s[i+1:], ".") {
		if !isIPv4(s[i+1:]) {
			return false
		}
		s, groups = s[:i+1]+"0", 1 // a trailing IPv4 takes two groups: this "0" and one more
	}
	head, tail, double := strings.Cut(s, "::")
	if double && strings.Contains(tail, "::") {
		return false
	}
	for _, half := range []string{head, tail} {
		if half == "" {
			continue
		}
		for g := range strings.SplitSeq(half, ":") {
			if g == "" || len(g) > 4 || strings.Trim(g, "0123456789abcdefABCDEF") != "" {
				return false
			}
			groups++
		}
	}
	if double {
		return groups < 8
	}
	return groups == 8
}

// addrType returns the SDP address type of an IP literal, or "" if s is not one.
func addrType(s string) string {
	switch {
	case isIPv4(s):
		return "IP4"
	case isIPv6(s):
		return "IP6"
	}
	return ""
}

// isUnspecified reports whether the (valid) IP literal s is 0.0.0.0 or ::, which RFC 2543
// peers use to put a call on hold.
func isUnspecified(s string) bool { return strings.Trim(s, "0.:") == "" }
