//go:build !cgo || noportaudio

package portaudio

import "errors"

// Available reports whether PortAudio is compiled into this binary.
const Available = false

// ErrUnavailable is returned by every device operation in builds without PortAudio
// (CGO_ENABLED=0 or the noportaudio build tag).
var ErrUnavailable = errors.New("PortAudio is not compiled into this build of dialtone (built without cgo or with the noportaudio tag); use --audio null or WAV files")

// Version is empty in builds without PortAudio.
func Version() string { return "" }
