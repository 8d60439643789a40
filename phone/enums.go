package phone

import "fmt"

// Transport is the SIP transport an account uses to reach its registrar.
type Transport int

// Transports, with explicit values because they are printed and stored.
const (
	UDP Transport = 0
	TCP Transport = 1
	TLS Transport = 2
)

func (t Transport) String() string {
	switch t {
	case UDP:
		return "udp"
	case TCP:
		return "tcp"
	case TLS:
		return "tls"
	}
	return fmt.Sprintf("Transport(%d)", int(t))
}

// ParseTransport parses "udp", "tcp" or "tls" ("" means udp).
func ParseTransport(s string) (Transport, error) {
	switch s {
	case "", "udp", "UDP":
		return UDP, nil
	case "tcp", "TCP":
		return TCP, nil
	case "tls", "TLS":
		return TLS, nil
	}
	return UDP, fmt.Errorf("transport %q is not one of udp, tcp, tls", s)
}

// RegState is an account's registration state.
type RegState int

// Registration states.
const (
	Unregistered RegState = 0 // not registered, and not trying
	Registering  RegState = 1 // a REGISTER is in flight
	Registered   RegState = 2 // the registrar holds our binding
	RegFailed    RegState = 3 // the last attempt failed; Failure says why, RetryIn when it tries again
	// Recovering: the TCP or TLS connection the binding lived on died (closed, reset, or no
	// answer to a keep-alive); Reason says which, and a REGISTER on a new connection is on its way.
	Recovering RegState = 4
)

func (s RegState) String() string {
	switch s {
	case Unregistered:
		return "unregistered"
	case Registering:
		return "registering"
	case Registered:
		return "registered"
	case RegFailed:
		return "registration_failed"
	case Recovering:
		return "recovering"
	}
	return fmt.Sprintf("RegState(%d)", int(s))
}

// Failure classifies why something failed, so front ends can map it to exit codes and advice.
type Failure int

// Failure kinds.
const (
	NoFailure       Failure = 0
	FailureAuth     Failure = 1 // credentials rejected (401/407 after answering a challenge, 403)
	FailureNetwork  Failure = 2 // DNS, unreachable, no response, TLS handshake or certificate
	FailureRefused  Failure = 3 // any other final response from the server
	FailureConfig   Failure = 4 // our own configuration: e.g. the password source failed
	FailureNotFound Failure = 5 // 404, 484, 604
	FailureBusy     Failure = 6 // 486, 600
	FailureNoAnswer Failure = 7 // ring timeout, 408, 480, 487
	FailureDeclined Failure = 8 // 603 and other call failures
	FailureMedia    Failure = 9 // an answered call lost its media: no RTP or RTCP for the RTP timeout
	// FailureInsecure: media encryption could not be agreed: our media_encryption =
	// "sdes-required" met a peer without SRTP, or a peer that requires SRTP met our "none".
	FailureInsecure Failure = 10
)

func (f Failure) String() string {
	switch f {
	case NoFailure:
		return "none"
	case FailureAuth:
		return "auth"
	case FailureNetwork:
		return "network"
	case FailureRefused:
		return "refused"
	case FailureConfig:
		return "config"
	case FailureNotFound:
		return "not_found"
	case FailureBusy:
		return "busy"
	case FailureNoAnswer:
		return "no_answer"
	case FailureDeclined:
		return "declined"
	case FailureMedia:
		return "media"
	case FailureInsecure:
		return "insecure"
	}
	return fmt.Sprintf("Failure(%d)", int(f))
}
