package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/alecthomas/kong"
	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/media"
)

// dtmfFlags is --dtmf for call and answer: digits sent as RFC 4733 events once the call is
// answered, as a script would dial an IVR's menu.
type dtmfFlags struct {
	DTMF dtmfDigits `name:"dtmf" help:"Send these DTMF digits (0-9 * # A-D) once the call is answered; each ',' waits 500 ms, e.g. --dtmf \",,1234#\". Each digit lasts 120 ms, 100 ms apart, as RFC 4733 events (SIP INFO to a far end without telephone-event)." placeholder:"DIGITS"`
}

// dtmfDigits is checked when the command line is parsed, so a typo is a usage error (exit 2)
// before any call is placed.
type dtmfDigits string

// Decode implements kong.MapperValue.
func (d *dtmfDigits) Decode(ctx *kong.DecodeContext) error {
	var s string
	if err := ctx.Scan.PopValueInto("digits", &s); err != nil {
		return err
	}
	if err := media.ValidDTMF(s); err != nil {
		return fmt.Errorf("%q: %w", s, err)
	}
	*d = dtmfDigits(s)
	return nil
}

// sendDTMF queues the digits on an answered call; a failure (the call on hold, too many
// digits waiting) is reported on stderr and the call goes on.
func (f dtmfFlags) sendDTMF(e *env, ph *phone.Phone, id string) {
	if f.DTMF == "" {
		return
	}
	if err := ph.SendDTMF(id, string(f.DTMF)); err != nil {
		fmt.Fprintf(e.stderr, "dialtone: --dtmf: %v\n", err)
		return
	}
	e.log.Info("dtmf queued", "call", id, "digits", string(f.DTMF))
}

// sendDTMFOnAnswer sends the digits when call id is answered, watching the phone's events on
// a subscription of its own (the caller's event loop stays as it is). The returned stop ends
// the watch and waits for it.
func (f dtmfFlags) sendDTMFOnAnswer(e *env, ph *phone.Phone, id string) (stop func()) {
	if f.DTMF == "" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(e.ctx)
	events := ph.Subscribe(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sent := false
		for _, cs := range ph.Calls() { // answered before we subscribed (a very quick peer)
			if cs.ID == id && cs.State == phone.CallAnswered {
				f.sendDTMF(e, ph, id)
				sent = true
			}
		}
		for ev := range events { // closes when ctx ends or the phone stops; drained to the end
			cs, ok := ev.(phone.CallStatus)
			if !sent && ok && cs.ID == id && cs.State == phone.CallAnswered {
				f.sendDTMF(e, ph, id)
				sent = true
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}
