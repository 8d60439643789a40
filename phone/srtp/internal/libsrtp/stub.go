//go:build !cgo || nolibsrtp

package libsrtp

import "errors"

// Available says whether this build has the peer: not without cgo, or with -tags nolibsrtp.
const Available = false

// Suites, as in the cgo build.
const (
	AESCM128HMACSHA180 = 1
	AESCM128HMACSHA132 = 2
	AEADAES128GCM      = 3
	AEADAES256GCM      = 4
)

// MaxTrailer is the cgo build's.
const MaxTrailer = 16 + 128 + 4

// Status codes, as libsrtp2 numbers them.
const (
	StatusAuthFail   = 7
	StatusReplayFail = 9
	StatusReplayOld  = 10
)

var errUnavailable = errors.New("libsrtp2: not built in (needs cgo and libsrtp2-dev; built with nolibsrtp or CGO_ENABLED=0)")

// Error is a libsrtp2 failure with its status code.
type Error struct {
	Op     string
	Status int
}

func (e *Error) Error() string { return "libsrtp2 " + e.Op }

// Session is unavailable in this build.
type Session struct{}

// New reports that the peer is not built in.
func New(suite int, inbound bool, key []byte, window int) (*Session, error) {
	return nil, errUnavailable
}

func (*Session) Close()                                       {}
func (*Session) ProtectRTP(buf []byte, n int) (int, error)    { return 0, errUnavailable }
func (*Session) UnprotectRTP(buf []byte, n int) (int, error)  { return 0, errUnavailable }
func (*Session) ProtectRTCP(buf []byte, n int) (int, error)   { return 0, errUnavailable }
func (*Session) UnprotectRTCP(buf []byte, n int) (int, error) { return 0, errUnavailable }
