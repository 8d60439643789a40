package sdp

import (
	"errors"
	"fmt"
)

// The classes of refusal: errors.Is tells them apart. Every refusal Answer, Check and Accept
// return is a *RefusalError wrapping one of them, with the short text a 488 carries.
var (
	// ErrNoCommonCodec means the offer or answer holds no audio stream we can use: no shared
	// codec, a transport we do not do (DTLS-SRTP), or audio disabled.
	ErrNoCommonCodec = errors.New("sdp: no common audio codec")
	// ErrEncryptionRequired means our policy is sdes-required and the peer offered or
	// answered plain RTP (no a=crypto).
	ErrEncryptionRequired = errors.New("sdp: SRTP required by policy")
	// ErrEncryptionOff means the peer wants SRTP (RTP/SAVP, or a=crypto in an answer) and
	// our policy is none.
	ErrEncryptionOff = errors.New("sdp: SRTP offered but media encryption is off")
	// ErrBadCrypto means the peer's a=crypto lines are malformed (bad base64, wrong key
	// length, broken grammar) or, in an answer, match no key we offered.
	ErrBadCrypto = errors.New("sdp: malformed a=crypto")
	// ErrNoCommonSuite means the peer's a=crypto lines name only suites or features we do
	// not do (or none we offered keys for).
	ErrNoCommonSuite = errors.New("sdp: no common SRTP crypto suite")
)

// RefusalError is why an offer or answer cannot be used. A UAS answers the INVITE with Code
// (488) and puts Reason in a Warning header ("Warning: 399 host \"...\"", or WarnCode) and
// a Reason header; a UAC that refuses an answer hangs up with Reason. Reason and Detail
// never hold keys.
type RefusalError struct {
	Err      error  // the class: ErrNoCommonCodec, ErrEncryptionRequired, ...
	Code     int    // SIP status for a refused offer: 488 Not Acceptable Here
	WarnCode int    // RFC 3261 §20.43 warn-code: 302 transport, 305 codec, 306 attribute
	Reason   string // short, for people: "SRTP required by policy"
	Detail   string // what exactly, for the log and the error text
}

func (e *RefusalError) Error() string {
	if e.Detail == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.Detail
}

func (e *RefusalError) Unwrap() error { return e.Err }

// AsRefusal returns the RefusalError in err's chain, if any.
func AsRefusal(err error) (*RefusalError, bool) {
	var r *RefusalError
	ok := errors.As(err, &r)
	return r, ok
}

// refusal texts and warn-codes by class.
var refusalText = map[error]struct {
	warn   int
	reason string
}{
	ErrNoCommonCodec:      {305, "No common audio codec"},
	ErrEncryptionRequired: {302, "SRTP required by policy"},
	ErrEncryptionOff:      {302, "SRTP offered but media encryption is off"},
	ErrBadCrypto:          {306, "Malformed a=crypto"},
	ErrNoCommonSuite:      {306, "No common SRTP crypto suite"},
}

// refuse builds the RefusalError of class err with a formatted detail.
func refuse(err error, format string, args ...any) *RefusalError {
	t := refusalText[err]
	return &RefusalError{Err: err, Code: 488, WarnCode: t.warn, Reason: t.reason, Detail: fmt.Sprintf(format, args...)}
}
