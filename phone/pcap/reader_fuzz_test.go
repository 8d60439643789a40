package pcap

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReadPcap feeds arbitrary files to the reader, the decoder and the SIP extraction: no
// panic, no hang, and every packet the reader returns lies within the input. The seeds
// (testdata/fuzz/FuzzReadPcap) are captures of each kind read: dialtone's pcapng, classic
// pcap in both byte orders and timestamp units, Ethernet, Linux cooked and loopback frames,
// IPv6 with extension headers, SIP over TCP split across segments.
func FuzzReadPcap(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		rd, err := NewReader(bytes.NewReader(b))
		if err == nil {
			for range len(b) + 1 { // each packet consumes at least one byte
				p, err := rd.Next()
				if err != nil {
					if !errors.Is(err, io.EOF) && !errors.Is(err, ErrFormat) {
						t.Fatalf("error not wrapping ErrFormat: %v", err)
					}
					break
				}
				if len(p.Data) > len(b) {
					t.Fatalf("packet of %d bytes from %d bytes of input", len(p.Data), len(b))
				}
				if d, ok := Decode(p); ok && len(d.Payload) > len(p.Data) {
					t.Fatalf("payload longer than its packet")
				}
			}
		} else if !errors.Is(err, ErrFormat) {
			t.Fatalf("error not wrapping ErrFormat: %v", err)
		}
		n := 0
		ReadSIP(bytes.NewReader(b), func(m SIPMessage) error {
			n++
			if len(m.Text) > len(b) || m.Summary() == "" {
				t.Fatalf("message %+v", m)
			}
			return nil
		})
	})
}
