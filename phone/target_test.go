package phone

import (
	"strings"
	"testing"
)

// TestParseTarget: what each form of target dials, with and without an account.
func TestParseTarget(t *testing.T) {
	acc := &account{}
	acc.aor.Host = "example.com"
	for _, c := range []struct {
		target  string
		withAcc bool
		want    string // the URI dialled, or "error: " and part of the message
	}{
		{"sip:bob@host.example:5070", false, "sip:bob@host.example:5070"},
		{"bob@host.example", false, "sip:bob@host.example"},
		{"bob", true, "sip:bob@example.com"},
		{"bob", false, "error: give a SIP URI"},
		{"tel:+1-555-0100", true, "sip:+15550100@example.com"},
		{"TEL:+44 (20) 7946.0000;ext=12", true, "sip:+442079460000@example.com"},
		{"tel:0100;phone-context=example.com", true, "sip:0100@example.com"},
		{"tel:+15550100", false, "error: needs an account"},
		{"tel:", true, "error: not a telephone number"},
		{"tel:--", true, "error: not a telephone number"},
		{"tel:bob@evil.example", true, "error: not a telephone number"},
		{"  ", true, "error: empty target"},
		{"sip:bob", true, "sip:bob"}, // a host named bob
	} {
		var a *account
		if c.withAcc {
			a = acc
		}
		u, err := parseTarget(c.target, a)
		if want, ok := strings.CutPrefix(c.want, "error: "); ok {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("parseTarget(%q, account %v) = %v, %v; want an error with %q", c.target, c.withAcc, u.String(), err, want)
			}
			continue
		}
		if err != nil || u.String() != c.want {
			t.Errorf("parseTarget(%q, account %v) = %q, %v; want %q", c.target, c.withAcc, u.String(), err, c.want)
		}
	}
}
