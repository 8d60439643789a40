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
		// Named by the IANA index without a decoder of their own: read by their supersets.
		{"GB2312", []byte("\xc4\xe3\xba\xc3"), "你好", false},
		{"TIS-620", []byte("\xca\xc7\xd1\xca\xb4\xd5"), "สวัสดี", false},
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
