package phone

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestParseReferTo(t *testing.T) {
	tests := []struct {
		in       string
		uri      string
		replaces string // "" for none
		err      string // substring of the error, "" for success
	}{
		{in: "<sip:bob@example.org>", uri: "sip:bob@example.org"},
		{in: "sip:bob@192.0.2.7:5070", uri: "sip:bob@192.0.2.7:5070"},
		{in: `"Bob" <sip:bob@example.org;transport=tcp>;foo=bar`, uri: "sip:bob@example.org;transport=tcp"},
		{in: "sip:bob@example.org;foo=bar", uri: "sip:bob@example.org"},
		{in: "<sips:carol@[2001:db8::1]:5061>", uri: "sips:carol@[2001:db8::1]:5061"},
		{in: "<sip:carol@example.com?Replaces=abc%40host%3Bto-tag%3D12%3Bfrom-tag%3D34>",
			uri: "sip:carol@example.com", replaces: "abc@host;to-tag=12;from-tag=34"},
		{in: "<sip:carol@example.com?Subject=hi&replaces=x%3Bfrom-tag%3Da%3Bto-tag%3Db%3Bearly-only>",
			uri: "sip:carol@example.com", replaces: "x;to-tag=b;from-tag=a;early-only"},
		{in: "", err: "empty"},
		{in: "garbage", err: "not a URI"},
		{in: "<tel:+12025550123>", err: "not a sip"},
		{in: "<%%:x>", err: "not a URI"},
		{in: "<http://example.org/>", err: "not a sip"},
		{in: "<sip:bob@example.org", err: "closing"},
		{in: "<sip:>", err: "refer-to"},
		{in: "<sip:bob@exa mple.org>", err: "refer-to"},
		{in: "<sip:bob@x?Replaces=onlycallid>", err: "to-tag and from-tag"},
		{in: "<sip:bob@x?Replaces=%zz>", err: "Replaces"},
		{in: "<" + strings.Repeat("a", 17000) + ">", err: "too long"},
	}
	for _, tt := range tests {
		got, err := parseReferTo(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseReferTo(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseReferTo(%q): %v", tt.in, err)
			continue
		}
		if got.URI.String() != tt.uri {
			t.Errorf("parseReferTo(%q) URI = %s, want %s", tt.in, got.URI.String(), tt.uri)
		}
		switch {
		case tt.replaces == "" && got.Replaces != nil:
			t.Errorf("parseReferTo(%q) has Replaces %v", tt.in, got.Replaces)
		case tt.replaces != "" && (got.Replaces == nil || got.Replaces.String() != tt.replaces):
			t.Errorf("parseReferTo(%q) Replaces = %v, want %s", tt.in, got.Replaces, tt.replaces)
		}
	}
}

// TestReferToRoundTrip: what TransferTo puts into a REFER is what the transferee reads back,
// whatever characters the Call-ID carries.
func TestReferToRoundTrip(t *testing.T) {
	target := sip.Uri{Scheme: "sip", User: "carol", Host: "198.51.100.9", Port: 5080}
	r := replaces{CallID: "a84b4c76e66710@pc33.example.com", ToTag: "314159", FromTag: "9fxced76sl"}
	v := referToValue(target, &r)
	if strings.ContainsAny(strings.TrimSuffix(strings.SplitN(v, "?Replaces=", 2)[1], ">"), ";@=") {
		t.Fatalf("Replaces not escaped in %s", v)
	}
	got, err := parseReferTo(v)
	if err != nil {
		t.Fatal(err)
	}
	if got.URI.String() != target.String() || got.Replaces == nil || *got.Replaces != r {
		t.Fatalf("round trip of %s: %v %+v", v, got.URI.String(), got.Replaces)
	}
	if blind := referToValue(target, nil); blind != "<sip:carol@198.51.100.9:5080>" {
		t.Fatalf("blind Refer-To %s", blind)
	}
}

func TestParseReplaces(t *testing.T) {
	r, err := parseReplaces(" 425928@bobster.example.org;to-tag=7743;from-tag=6472 ")
	if err != nil || r.CallID != "425928@bobster.example.org" || r.ToTag != "7743" || r.FromTag != "6472" || r.EarlyOnly {
		t.Fatalf("got %+v, %v", r, err)
	}
	for _, bad := range []string{"", ";to-tag=1;from-tag=2", "id;to-tag=1", "id;from-tag=2", "a b;to-tag=1;from-tag=2"} {
		if r, err := parseReplaces(bad); err == nil {
			t.Errorf("parseReplaces(%q) = %+v, want an error", bad, r)
		}
	}
}

func TestParseSipfrag(t *testing.T) {
	tests := []struct {
		in     string
		code   int
		reason string
		bad    bool
	}{
		{in: "SIP/2.0 100 Trying\r\n", code: 100, reason: "Trying"},
		{in: "SIP/2.0 200 OK", code: 200, reason: "OK"},
		{in: "SIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n\r\n", code: 486, reason: "Busy Here"},
		{in: "sip/2.0 603 ", code: 603},
		{in: "", bad: true},
		{in: "INVITE sip:bob@x SIP/2.0\r\n", bad: true},
		{in: "SIP/2.0 20 OK", bad: true},
		{in: "SIP/2.0 2000 OK", bad: true},
		{in: "SIP/2.0 099 Low", bad: true},
		{in: "SIP/3.0 200 OK", bad: true},
	}
	for _, tt := range tests {
		f, err := parseSipfrag([]byte(tt.in))
		if tt.bad {
			if err == nil {
				t.Errorf("parseSipfrag(%q) = %+v, want an error", tt.in, f)
			}
			continue
		}
		if err != nil || f.Code != tt.code || f.Reason != tt.reason {
			t.Errorf("parseSipfrag(%q) = %+v, %v; want %d %q", tt.in, f, err, tt.code, tt.reason)
		}
	}
	if f, err := parseSipfrag(sipfragBody(180, "Ringing")); err != nil || f.Code != 180 || f.Reason != "Ringing" {
		t.Fatalf("our own sipfrag reads back as %+v, %v", f, err)
	}
}

func TestURIHeadersToRequest(t *testing.T) {
	var u sip.Uri
	if err := sip.ParseUri("sip:carol@127.0.0.1:5080?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2&Subject=x", &u); err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(sip.INVITE, u)
	uriHeadersToRequest(req)
	if req.Recipient.String() != "sip:carol@127.0.0.1:5080" {
		t.Errorf("Request-URI %s still carries headers", req.Recipient.String())
	}
	h := req.GetHeader("Replaces")
	if h == nil || h.Value() != "abc@h;to-tag=1;from-tag=2" {
		t.Fatalf("Replaces header %v", h)
	}
	if req.GetHeader("Subject") != nil {
		t.Error("a URI header other than Replaces was carried into the request")
	}
}

func FuzzReferTo(f *testing.F) {
	f.Add("<sip:carol@example.com?Replaces=abc%40host%3Bto-tag%3D12%3Bfrom-tag%3D34>")
	f.Add("sip:bob@192.0.2.7:5070;foo")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseReferTo(s)
		if err != nil {
			return
		}
		if got.URI.Scheme != "sip" && got.URI.Scheme != "sips" || got.URI.Host == "" {
			t.Fatalf("parseReferTo(%q) accepted %v", s, got.URI.String())
		}
		// What we accept we can write again, and read back the same.
		again, err := parseReferTo(referToValue(got.URI, got.Replaces))
		if err != nil {
			t.Fatalf("re-reading %q: %v", referToValue(got.URI, got.Replaces), err)
		}
		if (again.Replaces == nil) != (got.Replaces == nil) {
			t.Fatalf("Replaces lost in the round trip of %q", s)
		}
	})
}

func FuzzReplaces(f *testing.F) {
	f.Add("425928@bobster.example.org;to-tag=7743;from-tag=6472;early-only")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseReplaces(s)
		if err != nil {
			return
		}
		if r.CallID == "" || r.ToTag == "" || r.FromTag == "" {
			t.Fatalf("parseReplaces(%q) accepted %+v", s, r)
		}
	})
}

func FuzzSipfrag(f *testing.F) {
	f.Add([]byte("SIP/2.0 180 Ringing\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := parseSipfrag(b)
		if err == nil && (fr.Code < 100 || fr.Code > 699) {
			t.Fatalf("parseSipfrag(%q) accepted code %d", b, fr.Code)
		}
	})
}
