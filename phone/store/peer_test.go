package store

import (
	"strings"
	"testing"
)

func TestNormalizePeer(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sip:Bob@Example.com;transport=tcp", "sip:Bob@example.com"},
		{"sip:bob@example.com", "sip:bob@example.com"},
		{"SIP:Bob@EXAMPLE.COM", "sip:Bob@example.com"},
		{"<sip:bob@example.com>", "sip:bob@example.com"},
		{`"Bob Smith" <sip:bob@Example.com:5060;transport=udp>;tag=a1b2`, "sip:bob@example.com:5060"},
		{`Bob <sips:bob@Example.com>`, "sips:bob@example.com"},
		{`"a <tricky> \"name\"" <sip:x@Y.org>`, "sip:x@y.org"},
		{"  sip:bob@example.com  ", "sip:bob@example.com"},
		{"sip:bob@example.com?subject=hi&priority=urgent", "sip:bob@example.com"},
		{"sip:bob@example.com;lr?x=y", "sip:bob@example.com"},
		// The user part keeps its case and its own parameters.
		{"sip:alice;day=tuesday@Atlanta.com;maddr=x", "sip:alice;day=tuesday@atlanta.com"},
		{"sip:+1-212-555-1212:1234@Gateway.com;user=phone", "sip:+1-212-555-1212:1234@gateway.com"},
		{"sip:[2001:DB8::1]:5061;transport=tls", "sip:[2001:db8::1]:5061"},
		{"sip:Example.COM", "sip:example.com"},
		{"tel:+1-555-0100;phone-context=Example.com", "tel:+1-555-0100"},
		{"sip:Zoë@Exämple.COM", "sip:Zoë@exämple.com"},
		// Not URIs: cleaned, otherwise as they were.
		{"", ""},
		{"bob", "bob"},
		{"Bob@Example.com", "Bob@example.com"},
		{"<sip:unterminated@Example.com", "sip:unterminated@example.com"},
		{"<>", ""},
	}
	for _, tc := range tests {
		if got := NormalizePeer(tc.in); got != tc.want {
			t.Errorf("NormalizePeer(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := NormalizePeer(tc.want); got != tc.want {
			t.Errorf("NormalizePeer(%q) = %q, want it unchanged", tc.want, got)
		}
	}
}

// FuzzNormalizePeer: never panics, is idempotent, and its output has none
// of the characters a second pass would act on. The seed corpus is in
// testdata/fuzz/FuzzNormalizePeer.
func FuzzNormalizePeer(f *testing.F) {
	f.Add(`"Bob" <sip:Bob@Example.com;transport=tcp>;tag=x`)
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizePeer(s)
		if again := NormalizePeer(n); again != n {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, n, again)
		}
		if i := strings.IndexFunc(n, func(r rune) bool { return r <= ' ' || r == 0x7f || strings.ContainsRune(`<>"`, r) }); i >= 0 {
			t.Fatalf("NormalizePeer(%q) = %q keeps %q", s, n, n[i])
		}
		if len(n) > len(s) {
			t.Fatalf("NormalizePeer(%q) = %q grew", s, n)
		}
	})
}
