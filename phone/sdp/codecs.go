package sdp

import (
	"fmt"
	"strings"
)

// codecSpec is an audio codec dialtone can negotiate, matched by rtpmap name (any case,
// RFC 4855 §3), clock rate and channels. The package matches names and rates only: whether a
// codec is built in is the caller's business (Local.Codecs names those it has).
type codecSpec struct {
	name           string // our spelling, as codec.Codec.Name gives it
	pt             uint8  // static PT, or the dynamic one our offers use
	rate, channels int    // as rtpmap writes them
	fmtp           string // what we write: our wishes as a receiver
}

// codecSpecs lists the codecs we negotiate. G.722's clock is 8000 although it samples at
// 16 kHz (RFC 3551 §4.5.2). Opus is always "opus/48000/2" whatever it carries (RFC 7587
// §7); our fmtp asks for in-band FEC, which our decoder uses to rebuild a lost frame, and
// minptime=10 as WebRTC writes it. We send and want mono, the default (stereo=0).
var codecSpecs = []codecSpec{
	{"opus", 111, 48000, 2, "minptime=10;useinbandfec=1"},
	{"G722", 9, 8000, 1, ""},
	{"PCMU", 0, 8000, 1, ""},
	{"PCMA", 8, 8000, 1, ""},
}

// specByName returns the codec named name, in any case.
func specByName(name string) (codecSpec, bool) {
	for _, c := range codecSpecs {
		if strings.EqualFold(c.name, name) {
			return c, true
		}
	}
	return codecSpec{}, false
}

// match returns the codec an offered or answered format is, if we negotiate it.
func match(f Format) (codecSpec, bool) {
	c, ok := specByName(f.Name)
	if !ok || f.Rate != c.rate || f.Channels != c.channels {
		return codecSpec{}, false
	}
	return c, true
}

// supportedNames lists our codec names for error messages.
func supportedNames() string {
	names := make([]string, len(codecSpecs))
	for i, c := range codecSpecs {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// normCodecs checks and spells l.Codecs our way.
func normCodecs(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("sdp: no local codecs")
	}
	out := make([]string, 0, len(in))
	for _, n := range in {
		c, ok := specByName(n)
		if !ok {
			return nil, fmt.Errorf("sdp: unsupported codec %q (we do %s)", n, supportedNames())
		}
		for _, d := range out {
			if d == c.name {
				return nil, fmt.Errorf("sdp: codec %s listed twice", c.name)
			}
		}
		out = append(out, c.name)
	}
	return out, nil
}

// offerFormats is what our offer lists: our codecs in order, then telephone-event at 8000
// and, when a 48 kHz codec is offered, at 48000, each at a payload type no other uses.
func offerFormats(l Local) []Format {
	fs := make([]Format, 0, len(l.Codecs)+2)
	used := map[uint8]bool{}
	if l.DTMF {
		used[l.DTMFPT] = true
	}
	wide := false
	for _, n := range l.Codecs {
		c, _ := specByName(n)
		pt := c.pt
		if pt >= 96 && used[pt] {
			pt = freePT(used)
		}
		used[pt] = true
		fs = append(fs, Format{PT: pt, Name: c.name, Rate: c.rate, Channels: c.channels, Fmtp: c.fmtp})
		wide = wide || c.rate != 8000
	}
	if l.DTMF {
		fs = append(fs, Format{PT: l.DTMFPT, Name: "telephone-event", Rate: 8000, Channels: 1, Fmtp: dtmfEvents})
		if wide {
			pt := uint8(110) // what Chrome and Firefox use for telephone-event/48000
			if used[pt] {
				pt = freePT(used)
			}
			fs = append(fs, Format{PT: pt, Name: "telephone-event", Rate: 48000, Channels: 1, Fmtp: dtmfEvents})
		}
	}
	return fs
}

// freePT is the first dynamic payload type not in used. There are 32 and we use at most 3.
func freePT(used map[uint8]bool) uint8 {
	for pt := uint8(96); pt < 127; pt++ {
		if !used[pt] {
			return pt
		}
	}
	return 127
}

// dtmfFor returns the telephone-event among fs for a codec with the given clock: the one at
// the same clock (RFC 4733 §2.1), else the one at 8000 that older peers (baresip 1.0) offer
// beside any codec. ok is false when fs has neither.
func dtmfFor(fs []Format, rate int) (Format, bool) {
	var fallback Format
	found := false
	for _, f := range fs {
		if !isEvent(f) {
			continue
		}
		if f.Rate == rate {
			return f, true
		}
		if f.Rate == 8000 && !found {
			fallback, found = f, true
		}
	}
	return fallback, found
}

// isEvent says whether f is telephone-event (RFC 4733), at any clock rate: one channel, as
// every format parsed or offered has at least.
func isEvent(f Format) bool { return strings.EqualFold(f.Name, "telephone-event") && f.Channels == 1 }
