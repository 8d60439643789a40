// Package call is the life of one call as a pure state machine: Step(machine, input) returns
// the next machine and the effects the call's owner must carry out (send a CANCEL, start the
// media, publish the new state, end the call). Nothing here does I/O, reads a clock or starts
// a goroutine, so every transition is table-tested; phone/ feeds Step what the network and the
// user did and executes what it says. Hold, transfer and call waiting extend this table, not
// the goroutines.
package call

import "fmt"

// State is where a call is in its life. The values are explicit because phone.CallState
// mirrors them and they are printed and stored.
type State uint8

const (
	Idle       State = 0 // created: nothing sent or received yet
	Calling    State = 1 // outgoing: INVITE sent, nothing but 100 Trying back
	Ringing    State = 2 // outgoing: 180 or 183 without SDP
	EarlyMedia State = 3 // outgoing: 183 (or 180) with SDP: we play what the far end sends
	Incoming   State = 4 // incoming: an INVITE arrived, we ring
	Answering  State = 5 // incoming: the user answered; media and the 200 are being prepared
	Answered   State = 6 // 2xx sent or received: media flows
	Ended      State = 7 // over: Outcome says how
	Holding    State = 8 // answered, and we hold the far end (it may hold us too)
	Held       State = 9 // answered, and the far end holds us
)

func (s State) String() string {
	switch s {
	case Idle:
		return "idle"
	case Calling:
		return "calling"
	case Ringing:
		return "ringing"
	case EarlyMedia:
		return "early_media"
	case Incoming:
		return "incoming"
	case Answering:
		return "answering"
	case Answered:
		return "answered"
	case Ended:
		return "hangup"
	case Holding:
		return "holding"
	case Held:
		return "held"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Failure classifies how an unsuccessful call ended. The values are phone.Failure's, which the
// phone package checks in a test.
type Failure uint8

const (
	NoFailure       Failure = 0
	FailureAuth     Failure = 1
	FailureNetwork  Failure = 2
	FailureConfig   Failure = 4
	FailureNotFound Failure = 5
	FailureBusy     Failure = 6
	FailureNoAnswer Failure = 7
	FailureDeclined Failure = 8
	FailureMedia    Failure = 9
	FailureInsecure Failure = 10
)

// By says which side ended a call.
type By string

const (
	Local  By = "local"
	Remote By = "remote"
)

// Outcome is how a call ended.
type Outcome struct {
	Code    int // the final SIP status, 0 for a BYE or when nothing came back
	Reason  string
	By      By
	Failure Failure
}

// AuthSent reports whether the INVITE was resent with credentials for any challenge.
func (m Machine) AuthSent() bool { return m.ProxyAuthSent || m.UserAuthSent }

// Machine is one call's state and the few facts that decide its transitions.
type Machine struct {
	State    State
	Outgoing bool
	// CanAuth is true when a digest challenge can be answered (the call has an account).
	CanAuth bool
	// ProxyAuthSent and UserAuthSent say which challenges the INVITE was resent with
	// credentials for: a proxy's 407 and then the far end's 401 are two (RFC 3261 22.3), each
	// answered once; a second of a kind already answered means the credentials were rejected.
	ProxyAuthSent, UserAuthSent bool
	// StaleRetried: a challenge of a kind already answered said stale=true, and was answered
	// again (once: a second stale one is a loop).
	StaleRetried bool
	// SRTPRequired: our offer requires SRTP (media_encryption = "sdes-required"), so a 488,
	// 606 or 415 from the far end means it would not encrypt, and the call fails as insecure.
	SRTPRequired bool
	// OfferInOK: their INVITE had no SDP (a delayed offer: Cisco CUCM trunks and some carriers
	// send them), so our 200 carried the offer and the answer comes in their ACK (RFC 3261
	// 13.2.1). The call is answered on the wire, but its media starts, and the answer is
	// published, only with that ACK's answer (AckAnswer).
	OfferInOK bool
	Outcome   Outcome // set once State is Ended
	Hold      Hold    // hold and resume, once answered (hold.go)
}

// NewOutgoing is a call we are about to place.
func NewOutgoing(canAuth bool) Machine { return Machine{State: Idle, Outgoing: true, CanAuth: canAuth} }

// NewIncoming is a call whose INVITE has just arrived.
func NewIncoming() Machine { return Machine{State: Incoming} }

// Established reports whether the call is answered and not over: talking or on hold.
func (m Machine) Established() bool {
	return m.State == Answered || m.State == Holding || m.State == Held
}

// Ringing reports whether the call has not been answered and may still be.
func (m Machine) Ringing() bool {
	switch m.State {
	case Calling, Ringing, EarlyMedia, Incoming, Answering:
		return true
	}
	return false
}
