package codec

// PacketTimer is a Codec that can tell how much audio a payload carries from the payload
// itself: a far end may send packets of another duration than the 20 ms frames everything
// here moves (a=ptime is only a wish, RFC 4566 §6), and the receive path must know it to play
// all of them. G.711 and G.722 carry one octet per RTP clock tick (G.722's two 16 kHz samples
// share one 8 kHz tick, RFC 3551 §4.5.2); Opus says its duration in its first octets (RFC 6716
// §3.1).
type PacketTimer interface {
	// PacketTicks is the payload's duration in RTP clock ticks; 0 when it cannot tell (an
	// empty or malformed payload).
	PacketTicks(payload []byte) int
}

// PacketTicks is payload's duration in c's RTP clock ticks, or 0 when c is no PacketTimer
// or cannot tell.
func PacketTicks(c Codec, payload []byte) int {
	if t, ok := c.(PacketTimer); ok {
		return t.PacketTicks(payload)
	}
	return 0
}

func (pcmu) PacketTicks(payload []byte) int { return len(payload) }
func (pcma) PacketTicks(payload []byte) int { return len(payload) }
func (g722) PacketTicks(payload []byte) int { return len(payload) }

// opusPacketSamples is the duration of an Opus packet at 48 kHz from its TOC octet and, for
// code 3, its frame count octet; 0 for a packet RFC 6716 forbids (no frames, or over 120 ms).
func opusPacketSamples(p []byte) int {
	if len(p) == 0 {
		return 0
	}
	toc := p[0]
	config := int(toc >> 3)
	var frame int // samples of one frame at 48 kHz (RFC 6716 Table 2)
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = [4]int{480, 960, 1920, 2880}[config%4]
	case config < 16: // Hybrid: 10, 20 ms
		frame = [2]int{480, 960}[config%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = [4]int{120, 240, 480, 960}[config%4]
	}
	frames := 1
	switch toc & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(p) < 2 {
			return 0
		}
		frames = int(p[1] & 0x3F)
	}
	if n := frames * frame; n > 0 && n <= 5760 {
		return n
	}
	return 0
}

// Concatenable reports whether c's payloads of consecutive frames, joined, are the payload of
// one packet of their whole duration (G.711 and G.722: a byte stream, one octet a clock tick),
// so a sender can pack frames into packets of another duration than 20 ms. Opus's packets
// would need repacketising (RFC 6716 §3.2): not so.
func Concatenable(c Codec) bool {
	_, g711 := c.(G711)
	return g711 || c == G722
}
