package phone

import (
	"context"
	"fmt"
	"time"
)

// CallState is where a call is in its life.
type CallState int

// Call states, with explicit values because they are printed and stored.
const (
	CallCalling    CallState = 0 // INVITE sent, nothing heard back but 100 Trying
	CallRinging    CallState = 1 // 180 Ringing (or 183 without media)
	CallEarlyMedia CallState = 2 // 183 (or 180) with SDP: the far end plays announcements or ringback
	CallIncoming   CallState = 3 // an INVITE arrived; we are ringing
	CallAnswered   CallState = 4 // 2xx: media flows
	CallEnded      CallState = 5 // terminated; Code/Reason/By say how
	CallHolding    CallState = 6 // answered, and we hold the far end (Held; it may hold us too: RemoteHeld)
	CallHeld       CallState = 7 // answered, and the far end holds us (RemoteHeld)
)

func (s CallState) String() string {
	switch s {
	case CallCalling:
		return "calling"
	case CallRinging:
		return "ringing"
	case CallEarlyMedia:
		return "early_media"
	case CallIncoming:
		return "incoming"
	case CallAnswered:
		return "answered"
	case CallEnded:
		return "hangup"
	case CallHolding:
		return "holding"
	case CallHeld:
		return "held"
	}
	return fmt.Sprintf("CallState(%d)", int(s))
}

// Direction says who placed a call.
type Direction int

// Call directions.
const (
	Outgoing Direction = 0
	Incoming Direction = 1
)

func (d Direction) String() string {
	if d == Incoming {
		return "incoming"
	}
	return "outgoing"
}

// CallStatus is a call's state; it is also the event published on every change.
type CallStatus struct {
	Time      time.Time
	ID        string // dialtone's own call id, stable for the call's life ("c1", "c2", ...)
	SIPCallID string
	Account   string // "" for direct calls without an account
	Direction Direction
	Peer      string // the other party's URI
	PeerName  string // its display name, if any
	// Dialled is the target the user called when a 3xx moved the call on (Peer is where it
	// went): the history keeps it, so a redial goes through the redirect again. "" otherwise.
	Dialled   string
	State     CallState
	Codec     string // negotiated codec, once answered
	CodecRate int    // its audio sample rate in Hz (8000 G.711, 16000 G.722, 48000 Opus)
	// SRTP is the SRTP crypto suite protecting the media (e.g. "AES_CM_128_HMAC_SHA1_80"),
	// "" when the media is plain RTP.
	SRTP  string
	Muted bool // our microphone is muted
	// Held: we put the call on hold; RemoteHeld: the far end holds us. Both can be true (the
	// state is then CallHolding).
	Held       bool
	RemoteHeld bool
	// Code and Reason are the final response (or the BYE's reason); By is "local" or
	// "remote" for ended calls; Failure classifies unsuccessful ends.
	Code     int
	Reason   string
	By       string
	Failure  Failure
	Err      error
	Started  time.Time
	Answered time.Time // zero if never answered
	Ended    time.Time
	// Quality summarises the call's media once it has ended (callquality.go); nil before, and
	// for calls that never had media.
	Quality *CallQuality
}

// EventTime implements Event.
func (s CallStatus) EventTime() time.Time { return s.Time }

// Duration is how long the call has been (or was) answered.
func (s CallStatus) Duration() time.Duration {
	if s.Answered.IsZero() {
		return 0
	}
	end := s.Ended
	if end.IsZero() {
		end = s.Time
	}
	return end.Sub(s.Answered)
}

// MediaStats is a periodic report of a call's RTP statistics.
type MediaStats struct {
	Time    time.Time
	CallID  string
	Account string
	Stats   StreamStats
	Final   bool // the last report, at the end of the call
}

// EventTime implements Event.
func (s MediaStats) EventTime() time.Time { return s.Time }

// StreamStats are one call's RTP counters.
type StreamStats struct {
	PacketsSent     uint64
	PacketsReceived uint64
	Lost            uint64 // frames missing at playout: never arrived, or too late (a silence the far end left out is not counted)
	// NeverArrived counts the far end's sequence numbers that never came (RFC 3550's
	// cumulative loss), an outage of any length whole.
	NeverArrived uint64
	Late         uint64
	Duplicate    uint64
	Concealed    uint64 // frames synthesised by loss concealment (each a received packet's duration, usually 20 ms)
	Dropped      uint64 // packets from the wrong source or SSRC, or malformed
	// SRTPAuthFailed and SRTPReplayed count received packets SRTP refused (a forgery, a wrong
	// key, plain RTP on an encrypted call; a replay): dropped, never played. Also in Dropped.
	SRTPAuthFailed uint64
	SRTPReplayed   uint64
	Jitter         time.Duration
	RTT            time.Duration // from RTCP, 0 until known
	// MOS and R are the E-model's estimate (phone/quality, ITU-T G.107) of the packets since
	// the previous report (about 5 s): the loss at playout, the codec, and the one-way delay
	// from RTT/2, the jitter buffer and packetisation. 0 until a packet was expected.
	MOS, R float64
}

// DTMFReceived reports a digit the far end sent (RFC 4733).
type DTMFReceived struct {
	Time   time.Time
	CallID string
	Digit  rune
}

// EventTime implements Event.
func (d DTMFReceived) EventTime() time.Time { return d.Time }

// CallStore keeps finished calls (phone/store implements it). Writes happen on the call's own
// goroutine after the call ended, never on the media path.
type CallStore interface {
	SaveCall(ctx context.Context, c CallStatus) error
}
