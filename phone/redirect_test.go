package phone

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// redirectResponse parses a 3xx with the given Contact lines.
func redirectResponse(t *testing.T, contacts ...string) *sip.Response {
	t.Helper()
	raw := "SIP/2.0 300 Multiple Choices\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n" +
		"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
	for _, c := range contacts {
		raw += "Contact: " + c + "\r\n"
	}
	msg, err := sip.NewParser().ParseSIP([]byte(raw + "Content-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	return msg.(*sip.Response)
}

// TestRedirectSetOrder: a 3xx's Contacts are tried best q first (equal q in the order given),
// each URI once however often it is named (the first target included, so two servers that
// redirect to each other end), SIP URIs only, without the headers or method a URI may carry.
func TestRedirectSetOrder(t *testing.T) {
	var first sip.Uri
	if err := sip.ParseUri("sip:alice@example.com", &first); err != nil {
		t.Fatal(err)
	}
	s := newRedirectSet(first)
	s.add(redirectResponse(t,
		"<sip:low@example.com>;q=0.1",
		"<sip:a@example.com>, <sip:b@example.com>;q=1.0",
		"<tel:+15550100>",
		"<sip:alice@EXAMPLE.com>",
		"<sips:best@example.com;method=BYE;maddr=10.0.0.1?Subject=hi&Replaces=x>;q=1",
		"<sip:bad@example.com>;q=nonsense",
	))
	s.add(redirectResponse(t, "<sip:a@example.com>", "<sip:c@example.com>;q=0.5"))
	var got []string
	for {
		u, ok := s.next()
		if !ok {
			break
		}
		if u.Headers.Has("Replaces") || u.UriParams.Has("method") || u.UriParams.Has("maddr") {
			t.Errorf("%s keeps the header or method it named", u.String())
		}
		got = append(got, u.Scheme+":"+u.User)
	}
	want := "sip:a sip:b sips:best sip:bad sip:low sip:c"
	if strings.Join(got, " ") != want {
		t.Fatalf("targets %q, want %q", strings.Join(got, " "), want)
	}
}

// TestRedirectsAreBounded: a server that names a new target every time is followed
// maxRedirects times, no more.
func TestRedirectsAreBounded(t *testing.T) {
	s := newRedirectSet(sip.Uri{Scheme: "sip", User: "x", Host: "example.com"})
	n := 0
	for i := range 3 * maxRedirects {
		s.add(redirectResponse(t, "<sip:hop"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@example.com>"))
		if _, ok := s.next(); !ok {
			break
		}
		n++
	}
	if n != maxRedirects {
		t.Fatalf("followed %d redirects, want %d", n, maxRedirects)
	}
}

// TestFollowsRedirect: which attempt outcomes move on to the next redirect target.
func TestFollowsRedirect(t *testing.T) {
	for code, want := range map[int]bool{0: true, 302: true, 404: true, 486: true, 503: true, 487: false, 600: false, 603: false, 200: false} {
		if got := followsRedirect(code); got != want {
			t.Errorf("followsRedirect(%d) = %v, want %v", code, got, want)
		}
	}
}

// TestRedirectKeepsTLS: a call to a sips: URI is not redirected to a sip: one (RFC 3261
// 8.1.3.4: not without the user's say), which would drop TLS on the way.
func TestRedirectKeepsTLS(t *testing.T) {
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sips", User: "bob", Host: "example.com"})
	p := &Phone{}
	if _, _, err := p.redirectInvite(t.Context(), nil, &call{}, req, nil, sip.Uri{Scheme: "sip", User: "bob", Host: "example.net"}); err == nil {
		t.Fatal("a sips: call was redirected to a sip: URI")
	}
}

// TestInternalAddresses: what counts as the user's own machine or network for a redirect.
func TestInternalAddresses(t *testing.T) {
	for a, want := range map[string]bool{"127.0.0.1": true, "10.1.2.3": true, "192.168.1.1": true, "172.16.0.1": true,
		"169.254.1.1": true, "::1": true, "fe80::1": true, "fd00::1": true, "0.0.0.0": true, "::ffff:10.0.0.1": true,
		"203.0.113.5": false, "2001:db8::1": false, "8.8.8.8": false} {
		if got := internal(netip.MustParseAddr(a)); got != want {
			t.Errorf("internal(%s) = %v, want %v", a, got, want)
		}
	}
}
