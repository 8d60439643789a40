package charset

import "testing"

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		cs   string
		in   []byte
		want string
		err  bool
	}{
		{"ISO-8859-1", []byte("Jos\xe9"), "José", false},
		{"iso-8859-15", []byte("\xa4"), "€", false},
		{"windows-1252", []byte("\x80"), "€", false},
		{"UTF-8", []byte("José"), "José", false},
		{"us-ascii", []byte("plain"), "plain", false},
		{"x-nobody-knows", []byte("a"), "", true},
		{"", []byte("a"), "", true},
	} {
		got, err := Decode(tc.cs, tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("Decode(%q, %q) = %q, %v; want %q, error %v", tc.cs, tc.in, got, err, tc.want, tc.err)
		}
	}
}
