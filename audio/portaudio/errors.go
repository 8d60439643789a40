package portaudio

import (
	"time"

	"github.com/dialtone/dialtone/audio"
)

// ErrUnavailable is matched (errors.Is) by every error that means "no PortAudio audio here":
// PortAudio not compiled in, or no usable sound device. It also matches audio.ErrUnavailable,
// so callers that only know the audio package can fall back to null or file audio.
var ErrUnavailable error = &unavailableError{"PortAudio backend unavailable"}

// unavailableError carries a user-facing message (what to do instead) while still matching
// both sentinels; wrapping with %w would have glued the sentinel text onto every message.
type unavailableError struct{ msg string }

func (e *unavailableError) Error() string { return e.msg }

func (e *unavailableError) Is(target error) bool {
	return target == ErrUnavailable || target == audio.ErrUnavailable
}

func unavailable(msg string) error { return &unavailableError{msg} }

// Stats counts the trouble a device stream had. Overruns and underruns are the ring buffer
// between the device callback and Read/Write; HostXruns are what PortAudio itself reported.
type Stats struct {
	Overruns  uint64 // times the ring was full and its oldest audio was dropped
	Dropped   uint64 // samples (at the ring's rate) dropped by those overruns
	Underruns uint64 // Source: Reads answered with silence; Sink: times playback ran dry
	HostXruns uint64 // callbacks flagged by PortAudio as input overflow / output underflow
	Buffered  int    // samples waiting in the ring right now
	// Slipped is how far, in all, the device's audio has moved against the frames Read and
	// Write see (slip.go): playback, the silence played between written frames less written
	// audio dropped unplayed; capture, captured audio dropped less silence Read made up.
	Slipped time.Duration
	// Skipped counts samples dropped because the ring held more than it needed for a second
	// (latency that would otherwise stay for the rest of the call: slip.go).
	Skipped uint64
}
