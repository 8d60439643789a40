package main

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/dialtone/dialtone/phone"
)

// Exit codes of `dialtone load` beyond the common table (exitcode.go); the README lists them.
const (
	exitLoadFailed = 15 // some call was not answered, or ended with a failure
	exitLoadLoss   = 16 // every call was answered, but some lost more than --max-loss
)

// loadMaxCalls bounds --calls so a typo cannot ask for billions of calls.
const loadMaxCalls = 1_000_000

// loadPhoneSlack is how many calls the phone may hold beyond --max-concurrent: an ended
// call leaves the phone's table shortly after its final event, and the next one must not be
// refused meanwhile. --max-concurrent itself is enforced here.
const loadPhoneSlack = 64

type loadCmd struct {
	Target        string        `arg:"" help:"Who to call: sip:user@host[:port], user@host, tel:NUMBER, a contact's name, or a user or number (completed with the account's domain)."`
	Calls         int           `help:"Calls to place in all (default 1)." default:"1" placeholder:"N"`
	Rate          float64       `help:"New calls per second (default 10)." default:"10" placeholder:"R"`
	Duration      time.Duration `help:"Hang up each call this long after it is answered (default 10s)." default:"10s" placeholder:"D"`
	Play          string        `help:"Send this WAV file (any rate, mono or stereo) on every call, looped for the whole call; without it calls send silence." placeholder:"FILE" type:"path"`
	Loop          bool          `help:"Loop the --play file for the whole call (--no-loop plays it once, then silence)." default:"true" negatable:""`
	MaxConcurrent int           `name:"max-concurrent" help:"Calls in progress at once; new calls wait for a free slot (0: as many as --calls)." placeholder:"N"`
	MaxLoss       float64       `name:"max-loss" help:"Loss at playout in percent (frames that never arrived or came too late) above which a call counts as bad (exit 16; default 1)." default:"1" placeholder:"PERCENT"`
	RingTimeout   time.Duration `help:"Give up on a call (CANCEL) if it is not answered within this time." default:"30s"`
}

// validate checks the flags; the error is one sentence for exit 2.
func (c *loadCmd) validate() error {
	switch {
	case c.Calls < 1 || c.Calls > loadMaxCalls:
		return usageErr("--calls %d: want 1 to %d calls", c.Calls, loadMaxCalls)
	case !(c.Rate > 0) || math.IsInf(c.Rate, 0) || c.Rate > 10000:
		return usageErr("--rate %g: want more than 0 and at most 10000 calls per second", c.Rate)
	case c.Duration <= 0:
		return usageErr("--duration %s: want a positive duration such as 30s", c.Duration)
	case c.MaxConcurrent < 0:
		return usageErr("--max-concurrent %d: want 0 (no limit beyond --calls) or more", c.MaxConcurrent)
	case !(c.MaxLoss >= 0 && c.MaxLoss <= 100):
		return usageErr("--max-loss %g: want a percentage from 0 to 100", c.MaxLoss)
	case c.RingTimeout <= 0:
		return usageErr("--ring-timeout %s: want a positive duration such as 30s", c.RingTimeout)
	case c.Target == "echo":
		return usageErr("load: the built-in echo test takes one call; give a SIP target")
	}
	return nil
}

// concurrency is how many calls may be in progress at once.
func (c *loadCmd) concurrency() int {
	if c.MaxConcurrent == 0 || c.MaxConcurrent > c.Calls {
		return c.Calls
	}
	return c.MaxConcurrent
}

// mostAtOnce is how many calls can be up at once, for their open files: --max-concurrent, or
// without it as many as the rate places while the first can still be up (its set-up before the
// INVITE, ringing until --ring-timeout, --duration, and its BYE, which may wait 5 s for an
// answer with its sockets open: loadCallOverhead). 10 000 calls at 10 a second for 5 s keep
// about 420 up, not 10 000: the check asked for 30 000 files and refused the run.
func (c *loadCmd) mostAtOnce() int {
	n := c.concurrency()
	if c.MaxConcurrent == 0 {
		span := (c.RingTimeout + c.Duration + loadCallOverhead).Seconds()
		n = min(n, int(math.Ceil(c.Rate*span))+1)
	}
	return n
}

// loadCallOverhead is a call's time up beyond ringing and --duration: DNS, STUN or TURN before
// its INVITE (2 s), and its BYE's wait for an answer (the phone's 5 s).
const loadCallOverhead = 7 * time.Second

// Run places --calls calls at --rate and reports each and the whole run; the exit code says
// whether every call was answered without more loss than --max-loss.
func (c *loadCmd) Run(e *env) error {
	if err := c.validate(); err != nil {
		return err
	}
	c.Target = e.loadContactNames().target(c.Target) // a contact's name, as for call
	if err := checkFileLimit(c.mostAtOnce()); err != nil {
		return err
	}
	var play *loadAudio
	if c.Play != "" {
		a, err := readLoadAudio(c.Play)
		if err != nil {
			return usageErr("--play: %v", err)
		}
		play = a
	}
	cfg, err := e.phoneConfig()
	if err != nil {
		return err
	}
	// A load test is G.711 unless --codecs says otherwise: its loss, jitter and MOS figures and
	// the shared 8 kHz --play frames are narrowband, and a thousand Opus encoders would measure
	// the codec, not the phone.
	if e.cli.Codecs == "" {
		cfg.Codecs = []string{"PCMU", "PCMA"}
	}
	for i := range cfg.Accounts {
		cfg.Accounts[i].Register = false // the INVITEs carry credentials, as for `call`
		if e.cli.Codecs == "" {
			cfg.Accounts[i].Codecs = cfg.Codecs
		}
	}
	account := ""
	if len(cfg.Accounts) > 0 {
		account = cfg.Accounts[0].Name
	}
	cfg.Parallel = true
	cfg.MaxCalls = c.concurrency() + loadPhoneSlack
	r, err := e.startPhone(cfg, false) // no history: a load test is not a thousand calls to remember
	if err != nil {
		if e.ctx.Err() != nil { // startPhone answers a signal with 0, which says the run went well
			return &exitError{code: exitLoadFailed, err: fmt.Errorf("load: interrupted before a call was placed")}
		}
		return err
	}
	run := &loadRun{}
	runErr := c.drive(e, r, account, play, run)
	calls := run.calls
	if rerr := r.finish(nil); rerr != nil && runErr == nil {
		runErr = rerr
	}
	if len(calls) == 0 && runErr != nil {
		return runErr // nothing was placed: no table of zeros
	}
	s := summarise(calls, c.MaxLoss)
	s.Time, s.Target, s.Requested, s.Peak = stamp(time.Now()), c.Target, c.Calls, run.peak
	s.Seconds = math.Round(run.wall.Seconds()*1000) / 1000
	s.Pacer = readPacer()
	if s.Pacer != nil {
		s.Pacer.Steady = run.steady.result()
	}
	if e.cli.JSON {
		writeJSONLine(e.stdout, s)
	} else {
		printSummary(e.stdout, s, c.MaxLoss)
	}
	switch {
	case runErr != nil:
		return runErr
	case s.Failed > 0:
		return &exitError{code: exitLoadFailed, err: fmt.Errorf("load: %d of %d calls failed", s.Failed, s.Attempted)}
	case s.Cancelled > 0 || s.Attempted < s.Requested:
		// Interrupted: not every call was placed and answered, whatever became of those that were.
		return &exitError{code: exitLoadFailed, err: fmt.Errorf("load: interrupted: %d of %d calls placed, %d cancelled before their answer", s.Attempted, s.Requested, s.Cancelled)}
	case s.OverLoss > 0:
		return &exitError{code: exitLoadLoss, err: fmt.Errorf("load: %d of %d calls lost more than %g %% of their packets", s.OverLoss, s.Attempted, c.MaxLoss)}
	}
	return nil
}

// loadLive is a call in progress.
type loadLive struct {
	rec   *loadCall
	stats *phone.StreamStats // the latest report
	timer *time.Timer        // hangs up --duration after the answer
}

// loadRun is what drive learns: the calls in the order they were placed, the peak
// concurrency, the wall time and the pacer over the steady state.
type loadRun struct {
	calls  []*loadCall
	peak   int
	wall   time.Duration
	steady steadyWindow
}

// drive places the calls and follows them until every one has ended (or Ctrl-C hung them
// up), filling run.
func (c *loadCmd) drive(e *env, r *running, account string, play *loadAudio, run *loadRun) error {
	maxConc := c.concurrency()
	var calls []*loadCall
	live := map[string]*loadLive{}
	peak, shown, up := 0, 0, 0 // up: calls answered and not ended
	start := time.Now()
	defer func() { run.calls, run.peak, run.wall = calls, peak, time.Since(start) }()
	hidden := 0
	report := func(rec *loadCall) {
		switch {
		case e.cli.JSON:
			writeJSONLine(e.stdout, rec)
		case rec.ok, rec.Cancelled:
		case shown < 20: // a thousand failures would drown the summary
			shown++
			printFailedCall(e.stdout, rec)
		default:
			hidden++
		}
	}
	defer func() {
		if hidden > 0 {
			fmt.Fprintf(e.stdout, "... and %d more failed calls (--json lists every call)\n", hidden)
		}
	}()
	// The schedule is by elapsed time, not one timer per call: call k (0-based) is due at
	// k/rate seconds, and a tick places every call due by then that has a free slot.
	tickEvery := min(time.Duration(float64(time.Second)/c.Rate), 10*time.Millisecond)
	tick := time.NewTicker(max(tickEvery, time.Millisecond))
	defer tick.Stop()
	interrupted := e.ctx.Done()
	stopping := false
	for {
		if (stopping || len(calls) == c.Calls) && len(live) == 0 {
			run.steady.end()
			return nil
		}
		select {
		case <-interrupted:
			interrupted, stopping = nil, true
			for id := range live {
				_ = r.Hangup(id)
			}
		case now := <-tick.C:
			if stopping {
				continue
			}
			due := min(c.Calls, int(now.Sub(start).Seconds()*c.Rate)+1)
			for len(calls) < due && len(live) < maxConc {
				rec := &loadCall{Index: len(calls) + 1}
				calls = append(calls, rec)
				ca := phone.CallAudio{}
				if play != nil {
					ca.Source = play.source(c.Loop)
				}
				id, err := r.Dial(account, c.Target, ca, phone.DialOptions{RingTimeout: c.RingTimeout})
				if err != nil {
					if len(calls) == 1 { // the target itself is wrong: every call would fail alike
						calls = calls[:0]
						return usageErr("%v", err)
					}
					rec.Event, rec.Time, rec.Error, rec.Failure = "call", stamp(time.Now()), err.Error(), phone.FailureConfig.String()
					report(rec)
					continue
				}
				rec.CallID = id
				live[id] = &loadLive{rec: rec}
				peak = max(peak, len(live))
			}
		case ev, ok := <-r.Events:
			if !ok {
				return errors.New("the phone stopped before the calls ended")
			}
			switch ev := ev.(type) {
			case phone.MediaStats:
				if l, ok := live[ev.CallID]; ok {
					st := ev.Stats
					l.stats = &st
				}
			case phone.CallStatus:
				l, ok := live[ev.ID]
				if !ok {
					continue
				}
				switch ev.State {
				case phone.CallAnswered:
					if l.timer == nil { // once: a resume publishes "answered" again
						id := ev.ID
						l.timer = time.AfterFunc(c.Duration, func() { _ = r.Hangup(id) })
						if up++; up == maxConc {
							run.steady.begin() // every call is up: the steady state starts
						}
					}
				case phone.CallEnded:
					if l.timer != nil {
						l.timer.Stop()
						up--
						run.steady.end() // the first call to end closes it
					}
					delete(live, ev.ID)
					finishLoadCall(l.rec, ev, l.stats)
					// Ctrl-C ended it before an answer: the user's doing, not the target's.
					l.rec.Cancelled = stopping && !l.rec.Answered
					report(l.rec)
				}
			}
		}
	}
}
