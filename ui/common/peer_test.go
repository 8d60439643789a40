package common

import "testing"

// The cases of phone/store's NormalizePeer: a peer from an event and the same peer read back
// from History must meet.
func TestPeerKey(t *testing.T) {
	for in, want := range map[string]string{
		`"Bob" <sip:Bob@Example.COM;transport=tcp>;tag=1`: "sip:Bob@example.com",
		"sip:bob@example.org":                             "sip:bob@example.org",
		"SIP:bob@EXAMPLE.org:5060;user=phone?Subject=x":   "sip:bob@example.org:5060",
		"sips:alice;day=tuesday@Host":                     "sips:alice;day=tuesday@host",
		`"Zoë <3" <sip:zoe@example.com>`:                  "sip:zoe@example.com",
		" sip:bob@example.org\r\n":                        "sip:bob@example.org",
		"1234":                                            "1234",
		"bob@Example.org":                                 "bob@example.org",
		"":                                                "",
	} {
		if got := PeerKey(in); got != want {
			t.Errorf("PeerKey(%q) = %q, want %q", in, got, want)
		}
		if again := PeerKey(PeerKey(in)); again != PeerKey(in) {
			t.Errorf("PeerKey is not idempotent on %q: %q", in, again)
		}
	}
}
