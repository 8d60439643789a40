package store

import "testing"

// FuzzNormalizeContactURI: any text is normalised or refused without panicking; a
// normalised address normalises to itself, has a sip, sips or tel scheme, and its TelAlias
// (if any) is a normalised tel: address too.
func FuzzNormalizeContactURI(f *testing.F) {
	for _, s := range []string{"bob@Example.COM", `"Bob" <sip:bob@example.com;transport=tcp>`, "tel:+1 (555) 010-0100",
		"sips:+4420@h;user=phone", "mailto:x@y", "example.com:5060", "<x>", `"a:b" <tel:1-2>`, "sip:", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, err := NormalizeContactURI(in)
		if err != nil {
			return
		}
		again, err := NormalizeContactURI(n)
		if err != nil || again != n {
			t.Fatalf("NormalizeContactURI(%q) = %q, but that gives %q, %v", in, n, again, err)
		}
		if tel := TelAlias(n); tel != "" {
			if tn, err := NormalizeContactURI(tel); err != nil || tn != tel {
				t.Fatalf("TelAlias(%q) = %q, which normalises to %q, %v", n, tel, tn, err)
			}
		}
	})
}
