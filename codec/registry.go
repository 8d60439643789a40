package codec

import (
	"strconv"
	"strings"
	"sync"
)

// The wideband codecs are set by their own files' init when they are built in: Opus needs cgo
// and libopus (opus_cgo.go), so a pure-Go build has none.
var (
	opusCodec Codec
	g722Codec Codec
)

// preferred is the preference order: Opus and G.722 first because they carry wideband audio;
// then PCMU because it is the RTP/AVP default (RFC 3551) and what North American and most
// SIP-trunk peers expect; PCMA for European peers. Built once, after every init has run.
var preferred = sync.OnceValue(func() []Codec {
	var s []Codec
	for _, c := range []Codec{opusCodec, g722Codec} {
		if c != nil {
			s = append(s, c)
		}
	}
	return append(s, PCMU, PCMA)
})

// All returns the codecs this build has, in preference order. The slice is a fresh copy, so
// callers may reorder or trim it for their own offer.
func All() []Codec {
	return append([]Codec(nil), preferred()...)
}

// ByPayloadType returns the codec with the given static RTP payload type.
func ByPayloadType(pt uint8) (Codec, bool) {
	for _, c := range preferred() {
		if c.PayloadType() == pt {
			return c, true
		}
	}
	return nil, false
}

// ByName looks a codec up by its rtpmap encoding name, case-insensitively as RFC 4855 §3
// requires for media subtype names. It also accepts the full rtpmap form "PCMU/8000" and
// "PCMU/8000/1"; a clock rate or channel count the codec does not have is no match, because
// "PCMU/16000" or stereo PCMU would be a different stream that the codec cannot decode.
func ByName(name string) (Codec, bool) {
	enc, rest, hasRate := strings.Cut(strings.TrimSpace(name), "/")
	for _, c := range preferred() {
		if !strings.EqualFold(enc, c.Name()) {
			continue
		}
		if hasRate {
			rate, channels, hasChannels := strings.Cut(rest, "/")
			if r, err := strconv.Atoi(rate); err != nil || r != c.ClockRate() {
				return nil, false
			}
			if hasChannels && channels != strconv.Itoa(c.Channels()) {
				return nil, false
			}
		}
		return c, true
	}
	return nil, false
}
