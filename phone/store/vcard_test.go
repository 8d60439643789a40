package store

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func parseFile(t *testing.T, name string) []Contact {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "vcard", name))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := ParseVCards(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cs
}

// TestParseVCardExports reads vCards shaped like what phones and mail clients export.
func TestParseVCardExports(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []Contact
	}{
		{"android-v21.vcf", []Contact{
			{Name: "Jürgen Müller", URIs: []string{"tel:+491701234567", "tel:030123456", "juergen@sip.example.de"}},
			{Name: "Voicemail", URIs: []string{"888"}},
		}},
		{"ios-v30.vcf", []Contact{{Name: "Johnny Appleseed",
			URIs: []string{"tel:+15550100199", "sip:johnny@voip.example.com", "xmpp:johnny@example.com"},
			Note: "Met at the orchard, spring 2024\nLikes G.722"}}},
		{"thunderbird-v40.vcf", []Contact{{Name: "Ada Lovelace",
			URIs: []string{"tel:+442079460018", "tel:+44-20-7946-0019", "sip:ada@analytical.example.org", "sips:ada@secure.example.org"},
			Note: "Line one\nLine two; with a semicolon, and a very long tail that needs folding across lines"}}},
		{"bom-lf.vcf", []Contact{{Name: "Plain LF, with BOM", URIs: []string{"sip:lf@example.net"}}}},
	} {
		if got := parseFile(t, tc.file); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.file, got, tc.want)
		}
	}
}

func TestParseVCardNameFromN(t *testing.T) {
	cs, err := ParseVCards(strings.NewReader("BEGIN:VCARD\nVERSION:3.0\nN:Doe\\;Smith;Jane;Q.;Dr.;PhD\nTEL:sip:jane@example.com\nEND:VCARD\n"))
	if err != nil || len(cs) != 1 || cs[0].Name != "Dr. Jane Q. Doe;Smith PhD" {
		t.Fatalf("ParseVCards = %+v, %v", cs, err)
	}
}

func TestParseVCardErrors(t *testing.T) {
	for in, want := range map[string]string{
		"BEGIN:VCARD\nFN:x\n": "no END:VCARD",
		"FN:x\n":              "outside BEGIN:VCARD",
		"END:VCARD\n":         "without BEGIN",
		"BEGIN:VCARD\nthis is not a line\nEND:VCARD\n": "line 2: no ':'",
		"BEGIN:VCARD\n:value\nEND:VCARD\n":             "no property name",
		"BEGIN:VCARD\nTEL;TYPE=\"open\nEND:VCARD\n":    "line 2",
	} {
		_, err := ParseVCards(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseVCards(%q) error = %v; want it to say %q", in, err, want)
		}
	}
	if cs, err := ParseVCards(strings.NewReader("")); err != nil || len(cs) != 0 {
		t.Errorf("empty input: %v, %v", cs, err)
	}
}

// TestVCardRoundTrip: contacts written and read back are the same contacts, and the written
// file is folded CRLF vCard 4.0.
func TestVCardRoundTrip(t *testing.T) {
	in := []Contact{
		{Name: "Bob Builder", URIs: []string{"sip:bob@example.com", "tel:+15550100"}, Note: "work; site B, gate 3\nbring a hat \\o/"},
		{Name: "Zoë 山田 with a name long enough to need folding in the middle of its multi-byte letters ✓✓✓✓", URIs: []string{"sips:zoe@example.org"}},
		{Name: "Semi;colon, comma\\back", URIs: []string{"sip:x@192.0.2.1:5070"}},
	}
	var buf bytes.Buffer
	if err := WriteVCards(&buf, in); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for i, line := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		if len(line) > 75 || !utf8.ValidString(line) || strings.ContainsAny(line, "\r\n") {
			t.Errorf("line %d %q: longer than 75 octets, invalid UTF-8 or a bare line break", i+1, line)
		}
	}
	if !strings.HasPrefix(out, "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Bob Builder\r\n") || !strings.Contains(out, "TEL;VALUE=uri:tel:+15550100\r\n") ||
		!strings.Contains(out, "IMPP:sip:bob@example.com\r\n") || !strings.Contains(out, `FN:Semi\;colon\, comma\\back`) {
		t.Errorf("written vCards:\n%s", out)
	}
	got, err := ParseVCards(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, in)
	}

	// Through the store: import, export, import into a fresh store gives the same book.
	ctx := context.Background()
	s1, s2 := newMemory(t), newMemory(t)
	for _, name := range []string{"android-v21.vcf", "ios-v30.vcf", "thunderbird-v40.vcf"} {
		if _, err := s1.ImportContacts(ctx, parseFile(t, name)); err != nil {
			t.Fatal(err)
		}
	}
	book1, _ := s1.Contacts(ctx)
	buf.Reset()
	if err := WriteVCards(&buf, book1); err != nil {
		t.Fatal(err)
	}
	cs, err := ParseVCards(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := s2.ImportContacts(ctx, cs); err != nil || r.Added != len(book1) {
		t.Fatalf("re-import = %+v, %v; want %d added", r, err, len(book1))
	}
	book2, _ := s2.Contacts(ctx)
	for i := range book1 { // ids are each store's own
		book1[i].ID = 0
	}
	for i := range book2 {
		book2[i].ID = 0
	}
	if len(book1) != 4 || !reflect.DeepEqual(book1, book2) {
		t.Errorf("store round trip:\n got %+v\nwant %+v", book2, book1)
	}
	if ada, err := s2.ContactByURI(ctx, "tel:+44 20 7946 0019"); err != nil || ada.Name != "Ada Lovelace" {
		t.Errorf("Ada by tel = %+v, %v", ada, err)
	}
}

// FuzzParseVCard: any input parses or fails cleanly; what parses writes out as vCard that
// parses again, and writing that gives the same bytes (the export is a fixed point).
func FuzzParseVCard(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "vcard", "*.vcf"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("BEGIN:VCARD\nFN:a\\\nEND:VCARD"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := ParseVCards(bytes.NewReader(data))
		if err != nil {
			return
		}
		var w1, w2 bytes.Buffer
		if err := WriteVCards(&w1, cs); err != nil {
			t.Fatal(err)
		}
		cs2, err := ParseVCards(bytes.NewReader(w1.Bytes()))
		if err != nil {
			t.Fatalf("our own output does not parse: %v\n%q", err, w1.String())
		}
		if len(cs2) != len(cs) {
			t.Fatalf("%d cards became %d", len(cs), len(cs2))
		}
		if err := WriteVCards(&w2, cs2); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(w1.Bytes(), w2.Bytes()) {
			t.Fatalf("export is not stable:\n%q\n%q", w1.String(), w2.String())
		}
	})
}

// TestVCardCharset: vCard 2.1 names the charset of its values (older phones, Outlook): José and
// Josè in ISO-8859-1 quoted-printable are two people, not two "Jos\uFFFD" merged into one.
func TestVCardCharset(t *testing.T) {
	in := "BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Jos=E9\r\nTEL:+15550101\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=windows-1252:Jos\xe8\r\nTEL:+15550102\r\nEND:VCARD\r\n"
	cs, err := ParseVCards(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Name != "José" || cs[1].Name != "Josè" {
		t.Fatalf("contacts %+v, want José and Josè", cs)
	}
	// A charset nobody knows leaves that property out, not the file: here the card keeps its
	// name from N, and a PHOTO in it would not stop the import either.
	odd := "BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=X-KLINGON:Qapla\r\nN:Worf;;;;\r\nADR;CHARSET=X-KLINGON:;;Kronos\r\nTEL:+15550103\r\nEND:VCARD\r\n"
	cs, err = ParseVCards(strings.NewReader(odd))
	if err != nil || len(cs) != 1 || cs[0].Name != "Worf" {
		t.Fatalf("a card with an unknown charset: %+v, %v; want it read without those properties", cs, err)
	}
}
