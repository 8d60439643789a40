package sdp

import (
	"strconv"
	"strings"
)

// OpusFmtp is the a=fmtp of an opus payload type (RFC 7587 §6.1). Every parameter states
// what the side that wrote it wants to receive or will send, so the parameters in the
// remote's SDP (Negotiated.Codec.Fmtp) tell our encoder how to encode. Zero values mean the
// parameter was absent: the RFC's default applies.
type OpusFmtp struct {
	MaxPlaybackRate     int  // maxplaybackrate: the highest audio rate worth sending, Hz (default 48000)
	SpropMaxCaptureRate int  // sprop-maxcapturerate: the highest rate the sender captures at
	MaxAverageBitrate   int  // maxaveragebitrate, bit/s (6000-510000): send no more on average
	Stereo              bool // stereo=1: the receiver prefers stereo (we send mono anyway)
	SpropStereo         bool // sprop-stereo=1: the sender may send stereo
	CBR                 bool // cbr=1: the receiver wants constant bitrate
	UseInbandFEC        bool // useinbandfec=1: the receiver decodes in-band FEC, so send it
	UseDTX              bool // usedtx=1: the receiver prefers discontinuous transmission
	MinPtime, MaxPtime  int  // minptime/maxptime, ms
}

// ParseOpusFmtp parses opus's fmtp parameters, "key=value" separated by ";" (white space
// allowed, RFC 7587 §6.1). Unknown parameters and values out of range are ignored, as RFC
// 7587 §7 asks of a receiver, so it never fails.
func ParseOpusFmtp(s string) OpusFmtp {
	var o OpusFmtp
	for p := range strings.SplitSeq(s, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		n, err := strconv.Atoi(v)
		if err != nil {
			continue
		}
		flag := n == 1
		switch k {
		case "maxplaybackrate":
			o.MaxPlaybackRate = inRange(n, 8000, 48000)
		case "sprop-maxcapturerate":
			o.SpropMaxCaptureRate = inRange(n, 8000, 48000)
		case "maxaveragebitrate":
			o.MaxAverageBitrate = inRange(n, 6000, 510000)
		case "stereo":
			o.Stereo = flag
		case "sprop-stereo":
			o.SpropStereo = flag
		case "cbr":
			o.CBR = flag
		case "useinbandfec":
			o.UseInbandFEC = flag
		case "usedtx":
			o.UseDTX = flag
		case "minptime":
			o.MinPtime = inRange(n, 3, 120)
		case "maxptime":
			o.MaxPtime = inRange(n, 3, 120)
		}
	}
	return o
}

// inRange is n when lo <= n <= hi, else 0 (absent).
func inRange(n, lo, hi int) int {
	if n < lo || n > hi {
		return 0
	}
	return n
}
