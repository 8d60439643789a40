package wav

// G.711 expansion tables for A-law and µ-law WAV files (common for telephony prompts),
// scaled to [-1, 1). Built here rather than borrowed from codec/ to keep this package
// free-standing; the formulas are those of the ITU reference implementation.
var (
	aLawTable  = g711Table(expandALaw)
	muLawTable = g711Table(expandMuLaw)
)

func g711Table(expand func(byte) int16) (t [256]float32) {
	for i := range t {
		t[i] = float32(expand(byte(i))) / 32768
	}
	return t
}

func expandALaw(a byte) int16 {
	a ^= 0x55
	t := int16(a&0x0F) << 4
	switch seg := (a >> 4) & 0x07; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t = (t + 0x108) << (seg - 1)
	}
	if a&0x80 != 0 {
		return t
	}
	return -t
}

func expandMuLaw(u byte) int16 {
	const bias = 0x84
	u = ^u
	t := (int16(u&0x0F)<<3 + bias) << ((u >> 4) & 0x07)
	if u&0x80 != 0 {
		return bias - t
	}
	return t - bias
}
