package store

import "testing"

// FuzzNormalizeContactURI: any text is normalised or refused without panicking; a
// normalised address normalises to itself, has a sip, sips or tel scheme, and its TelAlias
// (if any) is a normalised tel: address too.
func FuzzNormalizeContactURI(f *testing.F) {
	for _, s := range []string{"bob@Example.COM", `"Bob" <sip:bob@example.com;transport=tcp>`, "tel:+1 (555) 010-0100",
		"sips:+4420@h;user=phone", "<sip:a@b;transport=tls?x=y>;tag=1", "tel:+1-2;phone-context=x", "mailto:x@y", "example.com:5060", "<x>", `"a:b" <tel:1-2>`, "sip:", ""} {
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
		// Stored as key and parameters, read back as n.
		if k, p := splitContactURI(n); k+p != n || ContactKey(k) != k {
			t.Fatalf("NormalizeContactURI(%q) = %q splits into %q + %q", in, n, k, p)
		}
		if tel := TelAlias(n); tel != "" {
			if tn, err := NormalizeContactURI(tel); err != nil || tn != tel {
				t.Fatalf("TelAlias(%q) = %q, which normalises to %q, %v", n, tel, tn, err)
			}
		}
	})
}
