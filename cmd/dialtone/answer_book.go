package main

import (
	"sync"

	"github.com/dialtone/dialtone/phone"
)

// answerBook is what `answer` knows of its calls: how many it handled, the audio of those
// up, the failures. The event loop and the phone's automatic answer (autoAudio, which runs
// on the phone's goroutines) both use it, hence the lock.
type answerBook struct {
	mu      sync.Mutex
	handled int
	active  map[string]*callAudio
	failed  int
	lastErr error
	// spare is audio opened ahead for the next call when every call's is alike (--audio null,
	// no --record): opening it (the config file, the WAV to play) is off the answer's path.
	spare *callAudio
	// openErr: a call's audio could not be opened (a --play file gone, no sound device, a
	// --record directory not writable). Every later caller would meet the same, so `answer`
	// stops with it rather than turning callers away with 480 until someone notices.
	openErr error
	// stopping: the command was told to stop; callers from then on are turned away.
	stopping bool
}

func newAnswerBook() *answerBook { return &answerBook{active: map[string]*callAudio{}} }

// admit opens the audio of a new call id, numbered after the calls handled and up (for
// --record FILE-N.wav); 0 when it is taken, else the code to turn it away with: 486 beyond
// --count, 480 when its audio cannot be opened (a failure of the run).
func (b *answerBook) admit(c *answerCmd, e *env, id string) (*callAudio, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.handled + len(b.active)
	if n >= c.Count {
		return nil, 486
	}
	if b.stopping {
		return nil, 480
	}
	if c.Reject != 0 {
		return nil, c.Reject
	}
	if ca := b.spare; ca != nil {
		b.spare = nil
		b.active[id] = ca
		return ca, 0
	}
	ca, err := e.openAudio(c.audioFlags, c.recordPath(n))
	if err != nil {
		b.failed++
		b.lastErr, b.openErr = err, err
		return nil, 480
	}
	b.active[id] = ca
	return ca, 0
}

// restock opens the next call's audio ahead when every call's is alike: null audio (a sound
// device opened ahead would sit open while idle), no recording (each call has its own file).
// Called from the event loop, after an answer is on the wire. A failure is left for admit
// to report.
func (b *answerBook) restock(c *answerCmd, e *env) {
	if c.Record != "" || c.Audio != "null" || c.Reject != 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.spare != nil || b.handled+len(b.active) >= c.Count {
		return
	}
	if ca, err := e.openAudio(c.audioFlags, ""); err == nil {
		b.spare = ca
	}
}

// autoAudio is Config.AutoAnswerAudio for an immediate answer: the phone answers each call
// itself with the audio admit opens, without waiting for this front end's event loop.
func (b *answerBook) autoAudio(c *answerCmd, e *env) phone.AutoAnswerFunc {
	return func(s phone.CallStatus) (phone.CallAudio, error) {
		ca, code := b.admit(c, e, s.ID)
		if code != 0 {
			return phone.CallAudio{}, &phone.RejectError{Code: code}
		}
		return ca.CallAudio, nil
	}
}

// ended takes call id off the book: its audio, and whether it was ours (answered, not turned
// away). A call of ours (or, with --reject, any) counts as handled in the same step: an INVITE
// admitted between the two was numbered one too low, and took the ended call's recording name
// (its file truncated) and a place beyond --count.
func (b *answerBook) ended(id string, rejecting bool) (ca *callAudio, mine bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ca, mine = b.active[id]
	delete(b.active, id)
	if mine || rejecting {
		b.handled++
	}
	return ca, mine
}

// replaced moves the audio of call old to call fresh (RFC 3891 Replaces); false if old was
// not ours.
func (b *answerBook) replaced(old, fresh string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	ca, ok := b.active[old]
	if !ok {
		return false
	}
	if f, ok := b.active[fresh]; ok {
		f.Close()
	}
	b.active[fresh] = ca
	delete(b.active, old)
	return true
}

// stop turns away every caller from now on (the command was interrupted).
func (b *answerBook) stop() {
	b.mu.Lock()
	b.stopping = true
	b.mu.Unlock()
}

// audioFailed reports whether a call's audio could not be opened (openErr).
func (b *answerBook) audioFailed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.openErr != nil
}

// fail counts a failed call.
func (b *answerBook) fail(err error) {
	b.mu.Lock()
	b.failed++
	b.lastErr = err
	b.mu.Unlock()
}

// done says, once a handled call ended (ended counted it), whether --count is reached, and how
// many are up.
func (b *answerBook) done(count int) (reached bool, up int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.handled >= count, len(b.active)
}

func (b *answerBook) up() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.active)
}

// closeAll closes the audio of the calls still up (the phone has stopped) and the spare, and
// reports each close that failed: a recording a full disk cut short must be said, as it is for
// a call that ends while answer runs (env.closeAudio).
func (b *answerBook) closeAll(report func(error)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, ca := range b.active {
		if err := ca.Close(); err != nil {
			report(err)
		}
		delete(b.active, id)
	}
	if b.spare != nil {
		if err := b.spare.Close(); err != nil {
			report(err)
		}
		b.spare = nil
	}
}

// result is the run's failure, if any.
func (b *answerBook) result() (failed int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failed, b.lastErr
}
