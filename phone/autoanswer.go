package phone

import (
	"errors"

	lifecycle "github.com/dialtone/dialtone/phone/call"
)

// AutoAnswerFunc supplies the audio for an incoming call the phone answers itself
// (Config.AutoAnswerAudio). It is called once per call, before the 200 OK, on the goroutine
// that answers the call: it must return quickly (no 180 Ringing goes out while it runs) and
// may be called for several calls at once. The events are the same, in the same order, as
// when the front end answers: "incoming", then "answered"; both are published once the 200
// is on the wire, so that the front end's work on them does not compete with the answer. An
// error turns the call away (the events: "incoming", then "ended"): with the code of a
// *RejectError, else 480 Temporarily Unavailable.
//
// It saves the front end's round trip (event delivery, its loop, Phone.Answer): ~190 µs of
// INVITE → 200 OK on loopback (BenchmarkAnswerTurnaround).
type AutoAnswerFunc func(CallStatus) (CallAudio, error)

// RejectError is what an AutoAnswerFunc returns to turn a call away with Code (400-699).
type RejectError struct {
	Code int
	Err  error // why, for the log; may be nil
}

func (e *RejectError) Error() string {
	if e.Err != nil {
		return reasonPhrase(e.Code) + ": " + e.Err.Error()
	}
	return reasonPhrase(e.Code)
}

func (e *RejectError) Unwrap() error { return e.Err }

// autoAnswer asks the front end's AutoAnswerFunc for the call's audio and returns the input
// that answers the call with it, or rejects it.
func (x *incomingRun) autoAnswer(f AutoAnswerFunc) lifecycle.Input {
	c := x.c
	if x.sess.Context().Err() != nil { // CANCEL came already
		return lifecycle.RemoteCancel{}
	}
	c.mu.Lock()
	s := c.status
	c.mu.Unlock()
	s.Time = x.p.clock.Now()
	a, err := f(s)
	if err != nil {
		code := 480
		var re *RejectError
		if errors.As(err, &re) && re.Code >= 400 && re.Code <= 699 {
			code = re.Code
		}
		x.p.log.Info("automatic answer refused", "call", c.id, "code", code, "err", err)
		return lifecycle.Reject{Code: code, Reason: reasonPhrase(code)}
	}
	c.mu.Lock()
	c.source, c.sink = a.Source, a.Sink
	c.mu.Unlock()
	return lifecycle.Answer{}
}

// publishIncoming publishes the "incoming" event of a call the phone answers itself, once,
// before whatever it publishes next (answered, ended).
func (x *incomingRun) publishIncoming() {
	if x.incomingDue {
		x.incomingDue = false
		x.p.update(x.c, func(*CallStatus) {})
	}
}
