package codec

import "testing"

// TestLawConversion: every code of one law becomes the code of the other whose sample is
// nearest its own, so a tone sent in one law plays through the other within G.711's own
// quantisation (one step of the coarser law).
func TestLawConversion(t *testing.T) {
	var a, u [1]int16
	for c := range 256 {
		b := []byte{byte(c)}
		PCMA.DecodeTo(a[:], b)
		ALawToULaw(b)
		PCMU.DecodeTo(u[:], b)
		if d := abs(int(a[0]) - int(u[0])); d > max(abs(int(a[0]))/16, 16) {
			t.Errorf("A-law %#02x (%d) became µ-law %#02x (%d)", c, a[0], b[0], u[0])
		}
		b[0] = byte(c)
		PCMU.DecodeTo(u[:], b)
		ULawToALaw(b)
		PCMA.DecodeTo(a[:], b)
		if d := abs(int(a[0]) - int(u[0])); d > max(abs(int(u[0]))/16, 16) {
			t.Errorf("µ-law %#02x (%d) became A-law %#02x (%d)", c, u[0], b[0], a[0])
		}
	}
}
