package main

import (
	"math"
	"sync/atomic"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/phone"
)

// Mid-call control for the TUI: hold, resume, transfer and do-not-disturb go straight to the
// core, and the call-waiting beep is mixed into the speaker here, because audio is the
// adapter's business and never the UI's.

func (t *tuiPhone) Hold(id string) error                { return t.ph.Hold(id) }
func (t *tuiPhone) Resume(id string) error              { return t.ph.Resume(id) }
func (t *tuiPhone) Transfer(id, target string) error    { return t.ph.Transfer(id, target) }
func (t *tuiPhone) TransferTo(id, otherID string) error { return t.ph.TransferTo(id, otherID) }

// SetDND keeps the response code the phone was configured with (486 or 603).
func (t *tuiPhone) SetDND(on bool) error {
	t.ph.SetDND(on, 0)
	return nil
}

func (t *tuiPhone) DND() bool {
	on, _ := t.ph.DND()
	return on
}

// The call-waiting beep: 440 Hz for 300 ms every 3 s, at about -16 dBFS, added to what the
// far end says while a second call rings (the common European and ITU-T E.180 pattern is a
// short tone repeated every few seconds; 440 Hz is what most desk phones use).
const (
	beepHz          = 440
	beepAmplitude   = 5000
	beepFrames      = 15  // 300 ms of 20 ms frames
	beepCycleFrames = 150 // 3 s
)

// waitingSink adds the beep to a call's speaker while waiting says a call rings behind it.
// Write runs on the media session's playout goroutine only, so n needs no lock.
type waitingSink struct {
	audio.Sink
	waiting *atomic.Bool
	n       int // frames since the beeping began
	buf     [audio.FrameSamples]int16
}

func (s *waitingSink) Write(frame []int16) error {
	if !s.waiting.Load() {
		s.n = 0
		return s.Sink.Write(frame)
	}
	out := s.buf[:copy(s.buf[:], frame)]
	mixBeep(out, s.n)
	s.n++
	return s.Sink.Write(out)
}

// mixBeep adds the beep's share of frame number n (counted from the start of beeping) to
// out, saturating rather than wrapping round.
func mixBeep(out []int16, n int) {
	pos := n % beepCycleFrames
	if pos >= beepFrames {
		return
	}
	for i := range out {
		t := float64(pos*audio.FrameSamples+i) / audio.SampleRate
		v := float64(out[i]) + beepAmplitude*math.Sin(2*math.Pi*beepHz*t)
		out[i] = int16(max(math.MinInt16, min(math.MaxInt16, v)))
	}
}

// callWaiting follows the calls' states and says whether a call rings while another is
// answered: then the answered calls' speakers beep. Called from the adapter's event loop.
type callWaiting struct {
	states map[string]phone.CallState
	on     atomic.Bool
}

func (w *callWaiting) update(s phone.CallStatus) {
	if w.states == nil {
		w.states = map[string]phone.CallState{}
	}
	if s.State == phone.CallEnded {
		delete(w.states, s.ID)
	} else {
		w.states[s.ID] = s.State
	}
	ringing, talking := false, false
	for _, st := range w.states {
		ringing = ringing || st == phone.CallIncoming
		// The far end holding us still plays (silence) into our speaker, so the beep is heard;
		// a call we hold plays nothing.
		talking = talking || st == phone.CallAnswered || st == phone.CallHeld
	}
	w.on.Store(ringing && talking)
}

// wrap puts the beep in front of a call's speaker.
func (w *callWaiting) wrap(ca *callAudio) {
	if ca != nil && ca.Sink != nil {
		ca.Sink = &waitingSink{Sink: ca.Sink, waiting: &w.on}
	}
}
