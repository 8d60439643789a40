package sdp

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// addGolden seeds a fuzz target with every SDP in testdata, besides testdata/fuzz.
func addGolden(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.sdp"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzParse(f *testing.F) {
	addGolden(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			_ = err.Error() // pion's error values format lazily; that must not panic either
			return
		}
		if m.Port < 0 || m.Port > 65535 || len(m.Formats) == 0 || m.Dir < SendRecv || m.Dir > Inactive {
			t.Fatalf("bad media %+v", m)
		}
		if m.Port != 0 && addrType(m.Addr) == "" {
			t.Fatalf("bad address %q", m.Addr)
		}
	})
}

func FuzzAnswer(f *testing.F) {
	addGolden(f)
	local := testLocal()
	f.Fuzz(func(t *testing.T, offer []byte) {
		ans, n, err := Answer(offer, local)
		if err != nil {
			_ = err.Error()
			if ans != nil {
				t.Fatal("answer with an error")
			}
			return
		}
		if n.Codec != pcmu() && n.Codec != pcma() {
			t.Fatalf("negotiated codec %+v is not one of ours", n.Codec)
		}
		m, err := Parse(ans)
		if err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, ans)
		}
		if m.Port != local.Port || m.Addr != local.Addr || m.Formats[0] != n.Codec || m.Dir != n.LocalDir {
			t.Fatalf("answer %+v disagrees with negotiated %+v\n%s", m, n, ans)
		}
		// Our answer, read back as the answer to an offer of the same codecs, must be accepted.
		if _, err := Accept(local, ans); err != nil && !errors.Is(err, ErrNoCommonCodec) {
			t.Fatalf("Accept(our answer): %v\n%s", err, ans)
		}
	})
}
