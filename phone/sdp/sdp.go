// Package sdp does the SDP offer/answer exchange (RFC 3264) for dialtone's one audio
// stream: Opus (RFC 7587), G.722 and G.711 (PCMU, PCMA) plus telephone-event (RFC 4733),
// over RTP/AVP or, with SDES keys (RFC 4568, a=crypto), SRTP: RTP/SAVP or the best-effort
// RTP/AVP-with-crypto form.
//
// It is pure: bytes in, bytes and values out. Sockets and SIP live elsewhere, which is
// why addresses are strings (validated IP literals) rather than net types.
package sdp

import (
	"fmt"

	"github.com/dialtone/dialtone/phone/srtp"
)

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
	Rate     int    // RTP clock rate in Hz as rtpmap writes it: 8000 for G722, 48000 for opus
	Channels int    // 1 unless the rtpmap says otherwise (opus is always 2)
	Fmtp     string // a=fmtp parameters, e.g. "0-16"; for opus the sender's wishes (RFC 7587 §7)
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
	// Codecs lists the audio codecs we do ("opus", "G722", "PCMU", "PCMA", any case), in
	// the order we offer them. When answering, the offerer's order wins (RFC 3264 6.1).
	Codecs []string
	// DTMF offers/accepts telephone-event: at 8000 Hz (G.711, G.722) and, when opus is
	// offered, also at 48000 Hz, as RFC 4733 §2.1 wants the event clock to be the audio's.
	DTMF   bool
	DTMFPT uint8     // payload type of telephone-event/8000 in our offers; default 101
	Ptime  int       // packetisation we want to receive, in ms; default 20
	Dir    Direction // what we want to do; SendOnly puts the peer on hold

	// Encryption is the media encryption policy (zero: EncryptionNone, plain RTP).
	Encryption Encryption
	// KeysRequired refuses plain RTP under EncryptionSDES too: a call that settled SRTP as
	// RTP/AVP with a=crypto under an sdes-required policy repeats that form in its re-INVITEs,
	// and must not fall back to plain RTP in them, nor in the far end's.
	KeysRequired bool
	// Crypto are our SDES keys, one per suite we do, best first (srtp.NewCrypto makes them;
	// their tags must differ). Offers list them all; an answer uses ours of the suite it
	// picks, under the offer's tag. Required unless Encryption is EncryptionNone, and
	// ignored then. The caller keeps them for the call: Accept needs them again.
	Crypto []srtp.Crypto
}

// Media is the remote's audio stream as written in its SDP.
type Media struct {
	Proto    string    // "RTP/AVP", "RTP/AVPF", "RTP/SAVP" or "RTP/SAVPF"
	Addr     string    // RTP address: media-level c= overrides session-level c=
	Port     int       // 0: the stream is rejected or disabled
	Formats  []Format  // in the remote's order of preference
	Crypto   []string  // a=crypto values as written (they hold keys: never log them)
	DTMFPT   int       // payload type of telephone-event/8000, -1 if none
	Ptime    int       // a=ptime in ms, 0 if absent
	MaxPtime int       // a=maxptime in ms (RFC 4566 §6), 0 if absent
	Dir      Direction // media-level attribute, else session-level, else SendRecv
	RTCPPort int       // a=rtcp port, 0 if absent (then RTCP goes to Port+1)
	RTCPAddr string    // a=rtcp's address when it names one, else "" (RTCP goes to Addr)
}

// Negotiated is the outcome of an offer/answer exchange.
type Negotiated struct {
	// Codec is the codec to send with, in our spelling ("opus", "G722", "PCMU", "PCMA"):
	// its PT is the one the remote expects, its Fmtp the remote's wishes (opus: RFC 7587 §7,
	// e.g. "useinbandfec=1"; see ParseOpusFmtp), "" for the others.
	Codec Format
	// RecvPT is the payload type the far end sends Codec with: the one in our offer when we
	// offered (an answer may renumber a dynamic PT, RFC 3264 6.1), Codec.PT when we answered.
	RecvPT int
	DTMFPT int // telephone-event payload type to send with, -1 if not negotiated
	// DTMFRate is the negotiated telephone-event's clock rate: Codec.Rate when the peer has
	// telephone-event at the codec's clock, else 8000 (peers such as baresip 1.0 offer only
	// /8000 next to opus); 0 when DTMFPT is -1.
	DTMFRate int
	// RecvDTMFPT is the telephone-event payload type the far end sends us when our own offer
	// named another than its answer (RFC 3264 6.1: an offer's numbers are what the offerer
	// receives); 0 when it is DTMFPT.
	RecvDTMFPT int
	// RecvDTMFOther are our offer's telephone-event payload types at the answer's other clock
	// rates (telephone-event/48000 beside /8000): after a switch to a RecvOther codec of that
	// rate the far end sends its digits with one of these. Neither DTMFPT nor RecvDTMFPT.
	RecvDTMFOther []int
	// RecvAlt is the other G.711 law, with our offer's payload type, when Codec is PCMU or
	// PCMA and the answer listed that one too: the far end may send it (RFC 3264 §5.1: an
	// answer's formats are all ones it may use). Its Name is "" when there is none.
	RecvAlt Format
	// RecvOther are the answer's other codecs that our offer listed, with our offer's payload
	// types, best first: the far end may switch to one of them mid-call without a re-INVITE
	// (RFC 3264 §5.1; Asterisk does when it bridges the call on). Neither Codec nor RecvAlt.
	RecvOther      []Format
	RemoteAddr     string // where to send RTP
	RemotePort     int
	RemoteRTCPPort int    // a=rtcp if given, else RemotePort+1 (RFC 3605)
	RemoteRTCPAddr string // a=rtcp's address if it names one, else "" (RemoteAddr)
	// Ptime is the packetisation to send: what the remote asked for (default 20), no longer
	// than its a=maxptime allows.
	Ptime    int
	LocalDir Direction // what we may do, e.g. RecvOnly when the remote is sendonly
	Hold     bool      // the remote put us on hold: a=sendonly/inactive or c=0.0.0.0
	// Proto is the accepted stream's transport, e.g. "RTP/AVP" or "RTP/SAVP".
	Proto string
	// SRTP holds the SDES keys when the stream is encrypted: Local (ours) protects what we
	// send, Remote (theirs) unprotects what we receive. nil means plain RTP.
	SRTP *srtp.Keys
}

// keysRequired says whether plain RTP is refused: the sdes-required policy, or a call that
// settled SRTP under it (KeysRequired).
func (l Local) keysRequired() bool {
	return l.Encryption == EncryptionSDESRequired || l.KeysRequired && l.Encryption != EncryptionNone
}
