//go:build cgo && !noopus

package codec

import "testing"

// FuzzOpusDecode feeds arbitrary packets to a fresh decoder, then asks it for FEC from the
// same packet and for a concealed frame. Nothing may panic; a decoded packet is a whole number
// of 2.5 ms steps up to 120 ms and nothing is written past what Decode reports; FEC and PLC
// give exactly one 20 ms frame. The seed corpus (testdata/fuzz/FuzzOpusDecode) holds packets
// of every frame size our encoder makes and hand-made malformed ones.
func FuzzOpusDecode(f *testing.F) {
	const sentinel = -12345
	f.Fuzz(func(t *testing.T, payload []byte) {
		dec := Opus.NewDecoder()
		dst := make([]int16, opusMaxDecode+1)
		for i := range dst {
			dst[i] = sentinel
		}
		n, err := dec.Decode(dst[:opusMaxDecode], payload)
		if err == nil {
			if n <= 0 || n%120 != 0 || n > opusMaxDecode {
				t.Fatalf("Decode of %d bytes gave %d samples", len(payload), n)
			}
		} else if n != 0 {
			t.Fatalf("Decode failed (%v) but reported %d samples", err, n)
		}
		for i := max(n, 0); i < len(dst); i++ {
			if dst[i] != sentinel {
				t.Fatalf("Decode reported %d samples but wrote sample %d", n, i)
			}
		}
		frame := make([]int16, opusFrame)
		if n, err := dec.(FECDecoder).DecodeFEC(frame, payload); err == nil && n != opusFrame {
			t.Fatalf("DecodeFEC gave %d samples", n)
		}
		if n, err := dec.(Concealer).Conceal(frame); err != nil || n != opusFrame {
			t.Fatalf("Conceal after that = %d, %v", n, err)
		}
	})
}
