package quality

import (
	"strings"
	"time"
)

// Codec is what the E-model knows of a codec.
type Codec struct {
	Name string
	// Ie is the equipment impairment with no loss and Bpl the packet-loss robustness. For a
	// wideband codec they are on the G.107.1 wideband scale (Ie,WB, Bpl,WB).
	Ie, Bpl  float64
	Wideband bool
	// Lookahead is the codec's algorithmic delay beyond the frame itself.
	Lookahead time.Duration
}

// The codecs dialtone speaks. Sources and choices:
//
//   - G.711 (PCMU, PCMA): Ie 0, Bpl 25.1: ITU-T G.113 Appendix I, G.711 with packet loss
//     concealment (dialtone conceals every lost frame, phone/media/plc.go) under random loss.
//     Without concealment G.113 gives Bpl 4.3 (G711NoPLC, for comparison and tests).
//   - G.722 at 64 kbit/s: Ie,WB 13, G.113's wideband value (Appendix IV). G.113 has no Bpl
//     we could confirm for G.722 with dialtone's concealment, so Bpl is set to 10: below
//     G.711's 25.1 because G.722's ADPCM predictor has to re-converge after a lost frame, above
//     G.711 without concealment (4.3) because the lost frame itself is concealed. An
//     assumption, not an ITU figure.
//   - Opus: the ITU publishes no Ie for Opus. dialtone sends 36 kbit/s with in-band FEC
//     (codec/opus_cgo.go); listening tests of Opus at that rate put it at or above G.722 at
//     64 kbit/s, so Ie,WB is taken as 10 (a little better than G.722's 13), and its FEC and
//     concealment earn a Bpl of 20 (close to concealed G.711). Also an assumption: change
//     it here, in one place, when a better figure is known.
//
// Unknown codecs are rated as G.711 with concealment: the neutral narrowband case.
var (
	G711      = Codec{Name: "G711", Ie: 0, Bpl: 25.1}
	G711NoPLC = Codec{Name: "G711 without PLC", Ie: 0, Bpl: 4.3}
	G722      = Codec{Name: "G722", Ie: 13, Bpl: 10, Wideband: true, Lookahead: 1500 * time.Microsecond}
	Opus      = Codec{Name: "opus", Ie: 10, Bpl: 20, Wideband: true, Lookahead: 6500 * time.Microsecond}
)

// CodecFor maps a negotiated codec (its rtpmap encoding name, any case) to the E-model's
// figures.
func CodecFor(name string) Codec {
	switch strings.ToUpper(name) {
	case "PCMU", "PCMA", "G711":
		return G711
	case "G722":
		return G722
	case "OPUS":
		return Opus
	}
	return G711
}

// OneWayDelay is the mouth-to-ear delay of our receive path as far as the network figures
// tell: half the round trip (RTCP), the jitter buffer's playout delay, one frame of
// packetisation and the codec's lookahead. When the playout delay is unknown (0) it is taken
// as twice the interarrival jitter, about what an adaptive buffer settles at, and never less
// than one frame.
func OneWayDelay(rtt, playout, jitter, frame time.Duration, c Codec) time.Duration {
	if frame <= 0 {
		frame = 20 * time.Millisecond
	}
	if playout <= 0 {
		playout = max(2*jitter, frame)
	}
	return max(rtt, 0)/2 + playout + frame + c.Lookahead
}
