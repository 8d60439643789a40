package codec

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds arbitrary payloads and destination sizes to both G.711 decoders: they must
// never panic, must write exactly min(len(dst), len(payload)) samples and nothing beyond, must
// agree with the table-free expanders, and re-encoding must give the payload back (µ-law's
// negative zero 0x7F becomes 0xFF).
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte, dstLen uint16) {
		for _, c := range []G711{PCMU, PCMA} {
			dec := ulawDecode
			if c == PCMA {
				dec = alawDecode
			}
			dst := make([]int16, int(dstLen)+1)
			const sentinel = 12345 // not a G.711 output
			dst[dstLen] = sentinel
			n := c.DecodeTo(dst[:dstLen], payload)
			if want := min(int(dstLen), len(payload)); n != want {
				t.Fatalf("%s: DecodeTo returned %d, want %d", c.Name(), n, want)
			}
			if dst[dstLen] != sentinel {
				t.Fatalf("%s: DecodeTo wrote past dst", c.Name())
			}
			for i := range n {
				if dst[i] != dec(payload[i]) {
					t.Fatalf("%s: sample %d = %d, want %d", c.Name(), i, dst[i], dec(payload[i]))
				}
			}
			back := make([]byte, c.EncodedLen(n))
			c.EncodeTo(back, dst[:n])
			want := bytes.Clone(payload[:n])
			if c == PCMU {
				for i, b := range want {
					if b == 0x7F {
						want[i] = 0xFF
					}
				}
			}
			if !bytes.Equal(back, want) {
				t.Fatalf("%s: re-encode % x, want % x", c.Name(), back, want)
			}
		}
	})
}

// FuzzParseDTMFEvent: never panics, errors exactly on short input, and what it parses
// marshals back to the first four bytes with the reserved R bit cleared.
func FuzzParseDTMFEvent(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseDTMFEvent(b)
		if len(b) < DTMFEventLen {
			if err == nil {
				t.Fatalf("no error for %d bytes", len(b))
			}
			return
		}
		if err != nil {
			t.Fatalf("error for % x: %v", b, err)
		}
		if ev.Volume > MaxDTMFVolume {
			t.Fatalf("volume %d from % x", ev.Volume, b)
		}
		var out [DTMFEventLen]byte
		if n, err := ev.MarshalTo(out[:]); err != nil || n != DTMFEventLen {
			t.Fatalf("MarshalTo(%+v) = %d, %v", ev, n, err)
		}
		want := [DTMFEventLen]byte{b[0], b[1] &^ 0x40, b[2], b[3]}
		if out != want {
			t.Fatalf("% x -> %+v -> % x, want % x", b[:DTMFEventLen], ev, out, want)
		}
	})
}
