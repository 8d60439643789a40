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
	return deviceGone(s, err, &t.sourceLost, Event{SourceLost: err},
		"microphone lost: sending silence for the rest of the call")
}

// sinkGone is sourceGone for a Write error.
func (r *receiver) sinkGone(s *Session, err error) bool {
	return deviceGone(s, err, &r.sinkLost, Event{SinkLost: err},
		"speaker lost: discarding received audio for the rest of the call")
}

// deviceGone says whether err means the device is gone; the first time, it sets *lost and
// emits event.
func deviceGone(s *Session, err error, lost *bool, event Event, what string) bool {
	if err == nil || !errors.Is(err, audio.ErrDeviceLost) {
		return false
	}
	if !*lost {
		*lost = true
		s.log.Debug(what, "err", err)
		s.emit(event)
	}
	return true
}
