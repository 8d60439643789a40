package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	"github.com/dialtone/dialtone/phone"
)

type answerCmd struct {
	Auto     autoFlag      `help:"Answer automatically, optionally after a delay: --auto or --auto=2s (the default when --reject is not given)." placeholder:"DELAY"`
	Reject   int           `help:"Reject calls with this SIP code (e.g. 486 busy, 603 decline) instead of answering." placeholder:"CODE"`
	Count    int           `help:"Calls to handle before exiting." default:"1"`
	MaxCalls int           `name:"max-calls" help:"Calls taken at once; callers beyond get 486 Busy Here (default 4)." placeholder:"N"`
	Duration time.Duration `help:"Hang up this long after answering; 0 waits for the caller to hang up."`
	audioFlags
	dtmfFlags
}

// autoFlag is --auto[=DELAY]: a flag that works alone or with a value.
type autoFlag struct {
	set   bool
	delay time.Duration
}

// IsBool lets kong accept --auto without a value.
func (autoFlag) IsBool() bool { return true }

// Decode accepts --auto, --auto=true/false and --auto=DELAY.
func (a *autoFlag) Decode(ctx *kong.DecodeContext) error {
	if ctx.Scan.Peek().Type != kong.FlagValueToken { // bare --auto: the next token is not ours
		a.set = true
		return nil
	}
	s := fmt.Sprint(ctx.Scan.Pop().Value)
	switch s {
	case "", "true":
		a.set = true
		return nil
	case "false":
		a.set = false
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("--auto=%s: want a delay such as 2s", s)
	}
	a.set, a.delay = true, d
	return nil
}

// Run waits for calls on the accounts (or on --listen with none) and handles --count of them.
// Exit 0 when every handled call ended normally.
func (c *answerCmd) Run(e *env) error {
	if c.Count < 1 {
		return usageErr("--count must be at least 1")
	}
	if c.Reject != 0 && (c.Reject < 400 || c.Reject > 699) {
		return usageErr("--reject %d: a rejection code is 400-699", c.Reject)
	}
	if c.Reject != 0 && c.Auto.set {
		return usageErr("--auto and --reject are exclusive")
	}
	if c.MaxCalls < 0 {
		return usageErr("--max-calls %d: want at least 1 call at once (0 keeps the default of 4)", c.MaxCalls)
	}
	if err := checkFileLimit(c.MaxCalls); err != nil { // load_limit_unix.go
		return err
	}
	cfg, err := e.phoneConfig()
	if err != nil {
		return err
	}
	cfg.Parallel = true // an answering machine takes callers side by side; nobody holds anyone
	// An immediate answer: 200 OK with no 180 before it, RTP ports bound ahead (issue 10).
	cfg.AutoAnswer = c.Reject == 0 && c.Auto.delay == 0
	book := newAnswerBook()
	if cfg.AutoAnswer {
		// The phone answers each call itself with the audio book opens, as it arrives: no
		// round trip through this loop (~190 µs of INVITE → 200 OK). The loop still sees
		// "incoming" and "answered" and prints them as before.
		cfg.AutoAnswerAudio = book.autoAudio(c, e)
	}
	cfg.MaxCalls = c.MaxCalls // the phone turns away callers beyond it with 486 (0: its default)
	if len(cfg.Accounts) == 0 && cfg.ListenAddr == "" {
		return usageErr("no account to receive calls on: configure one, pass --aor, or give --listen ADDR:PORT for direct calls")
	}
	r, err := e.startPhone(cfg, true)
	if err != nil {
		return err
	}
	ph, events := r.Phone, r.Events
	if cfg.AutoAnswerAudio != nil {
		book.restock(c, e) // the first call's audio (finish closes it)
	}
	out := &printer{w: e.stdout, json: e.cli.JSON, names: e.loadContactNames()}
	if len(cfg.Accounts) == 0 {
		out.listening(ph.SIPAddr())
	}
	timers := map[string]*time.Timer{}
	answered := map[string]bool{} // a resume publishes "answered" again: act on the first only
	hangups := make(chan string, 8)
	interrupted := e.ctx.Done() // nil once the signal came: the command is stopping
	finish := func() error {
		rerr := r.finish(out.event) // the phone publishes until Run returns: unregistrations, last hangups
		book.closeAll(e.audioCloseErr)
		if rerr != nil {
			return rerr
		}
		if failed, lastErr := book.result(); failed > 0 {
			return lastErr
		}
		return nil
	}
loop:
	for {
		select {
		case <-interrupted:
			// Hang up every call and take no new one; calls we end now are not failures
			// (a call still ringing ends 486 by us).
			interrupted = nil
			book.stop()
			for _, cs := range ph.Calls() {
				_ = ph.Hangup(cs.ID)
			}
			if book.up() == 0 {
				break loop
			}
		case id := <-hangups:
			_ = ph.Hangup(id)
		case ev, ok := <-events:
			if !ok {
				break loop
			}
			switch ev := ev.(type) {
			case phone.AccountStatus:
				out.registration(ev)
				if ev.Terminal() {
					book.fail(&exitError{code: exitCodeFor(ev.Failure), err: fmt.Errorf("%s: %s", ev.Account, failureText(ev))})
					break loop
				}
			case phone.CallStatus:
				out.call(ev)
				switch ev.State {
				case phone.CallIncoming:
					if cfg.AutoAnswerAudio != nil {
						continue // the phone is answering it (book.autoAudio)
					}
					ca, code := book.admit(c, e, ev.ID)
					if code != 0 {
						_ = ph.Reject(ev.ID, code)
						if book.audioFailed() {
							break loop // finish reports why
						}
						continue
					}
					id := ev.ID
					time.AfterFunc(c.Auto.delay, func() { _ = ph.Answer(id, ca.CallAudio) })
				case phone.CallAnswered:
					if answered[ev.ID] {
						continue
					}
					answered[ev.ID] = true
					if cfg.AutoAnswerAudio != nil {
						book.restock(c, e) // the next call's audio, now that this answer is out
					}
					c.sendDTMF(e, ph, ev.ID) // --dtmf (dtmf.go)
					if c.Duration > 0 {
						id := ev.ID
						timers[id] = time.AfterFunc(c.Duration, func() { hangups <- id })
					}
				case phone.CallEnded:
					delete(answered, ev.ID)
					if t, ok := timers[ev.ID]; ok {
						t.Stop()
						delete(timers, ev.ID)
					}
					ca, mine := book.ended(ev.ID, c.Reject != 0)
					if !mine && c.Reject == 0 {
						if book.audioFailed() {
							break loop // turned away: its audio could not be opened (finish reports why)
						}
						continue // a call we turned away as over --count, or as we stop
					}
					if mine {
						e.closeAudio(ca)
					}
					// A call ended by our own hang-up on the way out is not a failure.
					if interrupted != nil || ev.By != "local" {
						if err := answerOutcome(ev, c.Reject != 0); err != nil {
							book.fail(err)
						}
					}
					if reached, up := book.done(c.Count); reached || (interrupted == nil && up == 0) {
						break loop
					}
				}
			case phone.MediaStats:
				out.stats(ev)
			case phone.DTMFReceived:
				out.dtmf(ev)
			case phone.MediaWarning:
				out.mediaWarning(ev)
			case phone.AudioDeviceLost:
				out.audioLost(ev) // headless_audio.go
			case phone.HoldChanged:
				out.hold(ev)
			case phone.Voicemail:
				out.voicemail(ev)
			case phone.TransferProgress:
				out.transfer(ev) // headless_transfer.go
			case phone.CallReplaced:
				out.replaced(ev)
				if book.replaced(ev.CallID, ev.NewCallID) { // the new call has the old one's audio
					answered[ev.NewCallID] = true
				}
			case phone.Message:
				if ev.Direction == phone.Incoming {
					out.message(ev)
				}
			}
		}
	}
	return finish()
}

// recordPath names the recording of the n-th call: FILE, then FILE-2.wav, FILE-3.wav, ...
func (c *answerCmd) recordPath(n int) string {
	if c.Record == "" || n == 0 {
		return c.Record
	}
	ext := filepath.Ext(c.Record)
	return strings.TrimSuffix(c.Record, ext) + "-" + strconv.Itoa(n+1) + ext
}

// answerOutcome says whether a handled call ended normally: answered and hung up, or (with
// --reject) rejected as asked.
func answerOutcome(s phone.CallStatus, rejecting bool) error {
	if rejecting && s.By == "local" && s.Code >= 400 {
		return nil
	}
	if !s.Answered.IsZero() && s.Failure == phone.NoFailure {
		return nil
	}
	return callExit(s)
}
