// Package sdp does the SDP offer/answer exchange (RFC 3264) for dialtone's one audio
// stream: G.711 (PCMU, PCMA) plus telephone-event (RFC 4733) over plain RTP/AVP.
//
// It is pure: bytes in, bytes and values out. Sockets and SIP live elsewhere, which is
// why addresses are strings (validated IP literals) rather than net types.
package sdp

import (
	"errors"
	"fmt"
)

// ErrNoCommonCodec means the offer or answer holds no audio stream we can use: no shared
// codec, audio only over SRTP, or audio disabled. A UAS answers such an INVITE with 488.
var ErrNoCommonCodec = errors.New("sdp: no common audio codec")

// Direction is a media direction attribute (RFC 3264 section 5.1), from the point of view
// of the side that wrote it.
type Direction int

// The zero value is SendRecv because that is what an SDP without a direction means.
const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

var dirNames = [...]string{"sendrecv", "sendonly", "recvonly", "inactive"}

func (d Direction) String() string {
	if d < 0 || int(d) >= len(dirNames) {
		return fmt.Sprintf("Direction(%d)", int(d))
	}
	return dirNames[d]
}

// ParseDirection parses an attribute name such as "sendonly".
func ParseDirection(s string) (Direction, error) {
	for i, n := range dirNames {
		if s == n {
			return Direction(i), nil
		}
	}
	return 0, fmt.Errorf("sdp: unknown direction %q", s)
}

func (d Direction) sends() bool { return d == SendRecv || d == SendOnly }
func (d Direction) recvs() bool { return d == SendRecv || d == RecvOnly }

func direction(send, recv bool) Direction {
	switch {
	case send && recv:
		return SendRecv
	case send:
		return SendOnly
	case recv:
		return RecvOnly
	}
	return Inactive
}

// Format is one RTP payload format of an m= line.
type Format struct {
	PT       uint8
	Name     string // as written, e.g. "PCMU", "telephone-event"; "" for a dynamic PT without a=rtpmap
	Rate     int    // clock rate in Hz
	Channels int    // 1 unless the rtpmap says otherwise
	Fmtp     string // a=fmtp parameters, e.g. "0-16"
}

// Local describes what we offer or can accept.
type Local struct {
	SessionID, SessionVersion uint64 // o= line; the caller bumps the version on every new offer in a dialog
	Username                  string // o= username, default "-"
	Addr                      string // our RTP address for c= and o=: an IPv4 or IPv6 literal
	Port                      int    // our RTP port
	// RTCPPort is our RTCP port when it is not Port+1 (a NAT or relay mapped it elsewhere): it
	// is then written as a=rtcp (RFC 3605) with Addr. 0 means Port+1, unwritten.
	RTCPPort int
	// Codecs lists the audio codecs we do ("PCMU", "PCMA"), in the order we offer them.
	// When answering, the offerer's order wins (RFC 3264 section 6.1).
	Codecs []string
	DTMF   bool      // offer/accept telephone-event/8000
	DTMFPT uint8     // payload type for telephone-event in our offers; default 101
	Ptime  int       // packetisation we want to receive, in ms; default 20
	Dir    Direction // what we want to do; SendOnly puts the peer on hold
}

// Media is the remote's audio stream as written in its SDP.
type Media struct {
	Addr     string    // RTP address: media-level c= overrides session-level c=
	Port     int       // 0: the stream is rejected or disabled
	Formats  []Format  // in the remote's order of preference
	DTMFPT   int       // payload type of telephone-event/8000, -1 if none
	Ptime    int       // a=ptime in ms, 0 if absent
	Dir      Direction // media-level attribute, else session-level, else SendRecv
	RTCPPort int       // a=rtcp port, 0 if absent (then RTCP goes to Port+1)
}

// Negotiated is the outcome of an offer/answer exchange.
type Negotiated struct {
	Codec  Format // the codec to send with (its PT is the one the remote expects)
	DTMFPT int    // telephone-event payload type, -1 if not negotiated
	// RecvDTMFPT is the telephone-event payload type the far end sends us when our own offer
	// named another than its answer (RFC 3264 6.1: an offer's numbers are what the offerer
	// receives); 0 when it is DTMFPT.
	RecvDTMFPT     int
	RemoteAddr     string // where to send RTP
	RemotePort     int
	RemoteRTCPPort int       // a=rtcp if given, else RemotePort+1 (RFC 3605)
	Ptime          int       // packetisation the remote asked for, default 20
	LocalDir       Direction // what we may do, e.g. RecvOnly when the remote is sendonly
	Hold           bool      // the remote put us on hold: a=sendonly/inactive or c=0.0.0.0
}
