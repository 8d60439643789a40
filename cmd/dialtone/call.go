package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dialtone/dialtone/phone"
)

type callCmd struct {
	Target      string        `arg:"" help:"Who to call: sip:user@host[:port], user@host, tel:NUMBER, a contact's name, a user or number (completed with the account's domain), or echo for the built-in echo test."`
	Duration    time.Duration `help:"Hang up this long after the call is answered (e.g. 20s); 0 waits for the far end or Ctrl-C."`
	HangupOnEOF bool          `name:"hangup-on-eof" help:"Hang up when the --play file ends."`
	RingTimeout time.Duration `help:"Give up (CANCEL) if nobody answers within this time." default:"60s"`
	audioFlags
	dtmfFlags
	stdinFlags
}

// Run places one call and reports it; the exit code says how it went (see the README).
func (c *callCmd) Run(e *env) error {
	if c.HangupOnEOF && c.Play == "" {
		return usageErr("--hangup-on-eof needs --play FILE (the file whose end hangs up)")
	}
	if c.Target == "echo" {
		return c.runEcho(e)
	}
	cfg, err := e.phoneConfig()
	if err != nil {
		return err
	}
	for i := range cfg.Accounts {
		cfg.Accounts[i].Register = false // a call needs no registration: the INVITE carries credentials
	}
	account := ""
	if len(cfg.Accounts) > 0 {
		account = cfg.Accounts[0].Name
	}
	return e.placeCall(cfg, account, c.Target, c)
}

// placeCall runs a phone just long enough for one call. target may be a contact's name.
func (e *env) placeCall(cfg phone.Config, account, target string, c *callCmd) error {
	names := e.loadContactNames()
	target = names.target(target)
	if err := phone.CheckTarget(target, account != ""); err != nil {
		return usageErr("%v", err) // before the sound devices: a typo is the problem to name
	}
	ca, err := e.openAudio(c.audioFlags, c.Record)
	if err != nil {
		return err
	}
	defer e.closeAudio(ca)
	r, err := e.startPhone(cfg, true)
	if err != nil {
		if e.ctx.Err() != nil {
			// Interrupted while starting: as a call cancelled while it rings (11), not
			// startPhone's answer to a signal (0), which says the call went well.
			return &exitError{code: exitNoAnswer, err: fmt.Errorf("call %s: interrupted before it was placed", target)}
		}
		return err
	}
	out := &printer{w: e.stdout, json: e.cli.JSON, names: names}
	id, err := r.Dial(account, target, ca.CallAudio, phone.DialOptions{RingTimeout: c.RingTimeout})
	if err != nil {
		_ = r.finish(out.event)
		return usageErr("%v", err)
	}
	stopDTMF := c.sendDTMFOnAnswer(e, r.Phone, id) // --dtmf (dtmf.go)
	defer stopDTMF()
	stopStdin := c.readCommands(e, r.Phone, id, out) // --stdin (stdin.go)
	defer stopStdin()
	final, err := e.followCall(r.Phone, id, r.Events, out, c.Duration, c.HangupOnEOF)
	if rerr := r.finish(out.event); rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	return callExit(final)
}

// followCall prints a call's events until it ends, hanging up on Ctrl-C, after --duration, or
// at the end of the played file. It returns the call's final status.
func (e *env) followCall(ph *phone.Phone, id string, events <-chan phone.Event, out *printer, duration time.Duration, hangupOnEOF bool) (phone.CallStatus, error) {
	var timer <-chan time.Time
	armed := false
	interrupted := e.ctx.Done()
	for {
		select {
		case <-interrupted:
			interrupted = nil
			_ = ph.Hangup(id)
		case <-timer:
			timer = nil
			_ = ph.Hangup(id)
		case ev, ok := <-events:
			if !ok {
				return phone.CallStatus{}, errors.New("the phone stopped before the call ended")
			}
			switch ev := ev.(type) {
			case phone.CallStatus:
				if ev.ID != id {
					continue
				}
				out.call(ev)
				if ev.State == phone.CallAnswered && duration > 0 && !armed {
					armed, timer = true, time.After(duration) // once: a resume publishes "answered" again
				}
				if ev.State == phone.CallEnded {
					return ev, nil
				}
			case phone.MediaStats:
				if ev.CallID == id {
					out.stats(ev)
				}
			case phone.DTMFReceived:
				if ev.CallID == id {
					out.dtmf(ev)
				}
			case phone.MediaWarning:
				if ev.CallID == id {
					out.mediaWarning(ev)
				}
			case phone.AudioDeviceLost:
				if ev.CallID == id {
					out.audioLost(ev) // headless_audio.go
				}
			case phone.HoldChanged:
				if ev.CallID == id {
					out.hold(ev)
				}
			case phone.TransferProgress:
				if ev.CallID == id {
					out.transfer(ev) // headless_transfer.go
				}
			case phone.CallRedirected:
				if ev.CallID == id {
					out.redirected(ev) // headless_redirect.go
				}
			case phone.CallReplaced:
				if ev.CallID == id { // we were transferred: follow the new call (same audio)
					out.replaced(ev)
					id = ev.NewCallID
				}
			case phone.PlaybackEnded:
				if ev.CallID == id && hangupOnEOF {
					_ = ph.Hangup(id)
				}
			}
		}
	}
}

// waitReady waits until the phone's SIP stack is up (or Run failed).
func waitReady(ctx context.Context, ph *phone.Phone, runErr chan error) error {
	select {
	case <-ph.Ready():
		return nil
	case err := <-runErr:
		if err == nil {
			err = errors.New("the phone stopped at once")
		}
		runErr <- err
		return &exitError{code: exitCodeFor(phone.FailureOf(err)), err: err}
	case <-ctx.Done():
		return &exitError{code: exitOK, err: nil}
	}
}

// callExit maps a finished call to the exit code table.
func callExit(s phone.CallStatus) error {
	if !s.Answered.IsZero() && s.Failure == phone.NoFailure {
		return nil
	}
	code := exitCodeFor(s.Failure)
	if code == exitOK {
		code = exitDeclined
	}
	msg := s.Reason
	if s.Code != 0 {
		msg = fmt.Sprintf("%d %s", s.Code, s.Reason)
	}
	var pe *phone.Error
	if errors.As(s.Err, &pe) && pe.Reason == s.Reason && s.Code == 0 {
		// The core's error already says "call PEER: reason: detail": say it once.
		return &exitError{code: code, err: s.Err}
	}
	if s.Err != nil {
		msg += ": " + s.Err.Error()
	}
	return &exitError{code: code, err: fmt.Errorf("call %s: %s", s.Peer, msg)}
}
