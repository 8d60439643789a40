package media

import (
	"errors"

	"github.com/dialtone/dialtone/audio"
)

// A source or sink whose sound device went away mid-call (audio.ErrDeviceLost) is dropped for
// the rest of the call: the session goes on as if it had none, sending silence and discarding
// what arrives, so RTP keeps flowing both ways and the far end hears silence rather than
// nothing. The call is told once (Event.SourceLost / SinkLost). Nothing switches to another
// device on its own: a device that comes back is the user's to choose. This is what PJSIP does
// on PJMEDIA_EVENT_AUD_DEV_ERROR: the sound device is closed, the call stays up, the
// application is told.

// sourceGone notes a Read error that means the source's device is gone, and reports it once.
// Only the pacer goroutine calls it.
func (t *sender) sourceGone(s *Session, err error) bool {
	if err == nil || !errors.Is(err, audio.ErrDeviceLost) {
		return false
	}
	if !t.sourceLost {
		t.sourceLost = true
		s.log.Debug("microphone lost: sending silence for the rest of the call", "err", err)
		s.emit(Event{SourceLost: err})
	}
	return true
}

// sinkGone is sourceGone for a Write error.
func (r *receiver) sinkGone(s *Session, err error) bool {
	if err == nil || !errors.Is(err, audio.ErrDeviceLost) {
		return false
	}
	if !r.sinkLost {
		r.sinkLost = true
		s.log.Debug("speaker lost: discarding received audio for the rest of the call", "err", err)
		s.emit(Event{SinkLost: err})
	}
	return true
}
