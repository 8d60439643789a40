package codec

// The two G.711 laws turned into each other byte by byte: a far end whose answer listed both
// may send the one we did not pick (RFC 3264 §5.1 lets it change formats among those it
// answered), and its packets play through the law the call decodes. Each table maps a code
// of one law to the code of the other nearest the same sample (decode, then encode).
var (
	alawToULaw [256]byte
	ulawToALaw [256]byte
)

func init() {
	var pcm [1]int16
	var out [1]byte
	for c := range 256 {
		PCMA.DecodeTo(pcm[:], []byte{byte(c)})
		PCMU.EncodeTo(out[:], pcm[:])
		alawToULaw[c] = out[0]
		PCMU.DecodeTo(pcm[:], []byte{byte(c)})
		PCMA.EncodeTo(out[:], pcm[:])
		ulawToALaw[c] = out[0]
	}
}

// ALawToULaw rewrites A-law payload b as µ-law, in place.
func ALawToULaw(b []byte) {
	for i, c := range b {
		b[i] = alawToULaw[c]
	}
}

// ULawToALaw rewrites µ-law payload b as A-law, in place.
func ULawToALaw(b []byte) {
	for i, c := range b {
		b[i] = ulawToALaw[c]
	}
}
