package phone

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Error is a failed SIP operation, classified so front ends can pick an exit code and advice.
type Error struct {
	Op      string  // what we tried, e.g. "register sip:alice@example.com"
	Failure Failure // the class of failure
	Code    int     // the final SIP response code, 0 when none arrived
	Reason  string  // its reason phrase, or a short description of the local failure
	Err     error   // the underlying error, if any
	// RetryAfter is the response's Retry-After (RFC 3261 20.33: a 503's or 486's "not before"),
	// 0 when it had none.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	switch {
	case e.Code != 0 && e.Err != nil:
		return fmt.Sprintf("%s: %d %s: %v", e.Op, e.Code, e.Reason, e.Err)
	case e.Code != 0:
		return fmt.Sprintf("%s: %d %s", e.Op, e.Code, e.Reason)
	case e.Err != nil:
		prefix := e.Op + ": " + e.Reason
		if inner := e.Err.Error(); strings.HasPrefix(inner, prefix) {
			return inner // the same failure wrapped again on its way up: say it once
		}
		return fmt.Sprintf("%s: %v", prefix, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Op, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// FailureOf returns the class of err, FailureNetwork for unclassified transport errors.
func FailureOf(err error) Failure {
	if err == nil {
		return NoFailure
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Failure
	}
	return FailureNetwork
}

// transportError wraps an error from sending a request and no response, explaining it for people.
func transportError(op, target string, t Transport, err error) *Error {
	e := &Error{Op: op, Failure: FailureNetwork, Err: err}
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		dnsErr    *net.DNSError
		recordErr tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &verify) && verifyIsUnknownCA(verify):
		e.Reason = fmt.Sprintf("the TLS certificate of %s is not trusted (signed by an unknown authority); trust its CA with --tls-ca FILE or tls_ca in the config", target)
	case errors.As(err, &hostname):
		e.Reason = fmt.Sprintf("the TLS certificate of %s does not match its name", target)
	case errors.As(err, &invalid), errors.As(err, &verify):
		e.Reason = fmt.Sprintf("the TLS certificate of %s was not accepted", target)
	case errors.As(err, &recordErr):
		e.Reason = fmt.Sprintf("TLS handshake with %s failed: it does not speak TLS", target)
	case errors.As(err, &dnsErr):
		e.Reason = fmt.Sprintf("cannot resolve %s", dnsErr.Name)
	case errors.Is(err, errConnClosed):
		e.Reason = fmt.Sprintf("the connection to %s over %s closed before it answered", target, t)
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Reason = fmt.Sprintf("connection refused by %s over %s", target, t)
	case errors.Is(err, sip.ErrTransactionTimeout), errors.Is(err, context.DeadlineExceeded):
		e.Reason = fmt.Sprintf("no response from %s over %s", target, t)
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		e.Reason = fmt.Sprintf("%s is unreachable", target)
	default:
		e.Reason = fmt.Sprintf("cannot reach %s over %s", target, t)
	}
	return e
}

func verifyIsUnknownCA(v *tls.CertificateVerificationError) bool {
	var u x509.UnknownAuthorityError
	return errors.As(v.Err, &u)
}

// responseError classifies a final non-2xx response to a request that is not a call.
func responseError(op string, res *sip.Response, credentialsSent bool) *Error {
	e := &Error{Op: op, Code: int(res.StatusCode), Reason: res.Reason, Failure: FailureRefused, RetryAfter: retryAfter(res)}
	switch {
	case res.StatusCode == 401 || res.StatusCode == 407:
		e.Failure = FailureAuth
	case res.StatusCode == 403 && credentialsSent:
		e.Failure = FailureAuth
	case res.StatusCode == 404 || res.StatusCode == 484 || res.StatusCode == 604:
		e.Failure = FailureNotFound
	}
	return e
}

// retryAfter is res's Retry-After in seconds ("120", "120 (maintenance)", "120;duration=60"),
// at most maxRetryAfter; 0 when absent or unreadable.
func retryAfter(res *sip.Response) time.Duration {
	h := res.GetHeader("Retry-After")
	if h == nil {
		return 0
	}
	v := strings.TrimSpace(h.Value())
	if end := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' }); end >= 0 {
		v = v[:end] // the delta-seconds before a comment or parameters
	}
	return min(deltaSeconds(v), maxRetryAfter)
}

// maxRetryAfter bounds how long a server's Retry-After keeps us from trying again.
const maxRetryAfter = time.Hour
