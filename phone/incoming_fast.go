package phone

import (
	"sync"
	"time"

	lifecycle "github.com/dialtone/dialtone/phone/call"
	"github.com/dialtone/dialtone/phone/media"
	"github.com/emiago/sipgo/sip"
)

// What makes an automatic answer quick (Config.AutoAnswer, BenchmarkAnswerTurnaround): no
// 180 Ringing before a 200 that follows at once, an RTP port pair bound before the INVITE
// comes, and nothing but the 200 itself between the answer and the wire.

// ringingGrace is how long an automatically answered call waits for its answer before it
// sends 180 Ringing after all. Well under T1 (500 ms), so a UDP caller sees a response before
// it retransmits the INVITE.
const ringingGrace = 100 * time.Millisecond

// waitAnswerRinging sends 180 Ringing only if no answer comes within ringingGrace: RFC 3261
// (13.3.1) lets a UAS send its final response at once, and a caller answered in a fraction
// of a millisecond gains nothing from a 180 before it.
// The "incoming" event, which the front end answers, went out as the call arrived (onInvite).
func (x *incomingRun) waitAnswerRinging() lifecycle.Input {
	p, c := x.p, x.c
	if f := p.cfg.AutoAnswerAudio; f != nil {
		return x.autoAnswer(f) // the phone answers itself (autoanswer.go)
	}
	return p.waitAnswer(c, x.sess, x.stk, ringingGrace, x.ringAgain)
}

// ringAgain sends 180 Ringing (again); false when it could not (the caller is gone).
func (x *incomingRun) ringAgain() bool {
	x.err = x.sess.Respond(180, "Ringing", nil, x.contact)
	return x.err == nil
}

// step feeds one input and carries out the effects; an effect that learns something (the
// answer could be prepared, the ACK never came) returns the next input.
func (x *incomingRun) step(in lifecycle.Input) lifecycle.Input {
	var next lifecycle.Input
	effects := x.c.advance(in)
	var after []lifecycle.Effect // what waits for our 200 to be on the wire
	for _, e := range effects {
		if r, ok := e.(lifecycle.Respond); ok && r.Code == 200 {
			after = effectsBefore200(effects)
			break
		}
	}
	if after != nil {
		x.otx.setThen(func() {
			x.carryOut(after)
			if x.p.cfg.AutoAnswer { // the next call's ports, now that this one's answer is out
				x.stk.spare.restock(x.l.localIP, x.p.mediaConfig(x.l.localIP))
			}
		})
	}
	for _, e := range effects {
		if after != nil && isAfterOK(e) {
			continue
		}
		if n := x.carryOut([]lifecycle.Effect{e}); n != nil {
			next = n
		}
	}
	if after != nil {
		// The caller has our 200 (its ACK came), or it never will: they happen now, if the
		// timer (afterOK) has not run them already.
		x.otx.runThen()
	}
	return next
}

// effectsBefore200 are the effects the state machine puts before the 200 (start the media,
// publish the answer) which the wire does not need to wait for: they run once the caller has
// the 200 (afterOK), ~200 µs sooner INVITE → 200 OK.
func effectsBefore200(effects []lifecycle.Effect) []lifecycle.Effect {
	// Not nil when there are none (our offer in the 200: they wait for the ACK's answer), so
	// that the spare ports are restocked all the same.
	after := []lifecycle.Effect{}
	for _, e := range effects {
		if isAfterOK(e) {
			after = append(after, e)
		}
	}
	return after
}

func isAfterOK(e lifecycle.Effect) bool {
	switch e := e.(type) {
	case lifecycle.StartMedia:
		return !e.Early
	case lifecycle.Publish:
		return e.State == lifecycle.Answered
	}
	return false
}

// afterOK carries out the effects that go with answering (start the media, publish the call
// as answered, bind the next call's ports) once the caller has our 200 instead of before we
// send it: when its ACK comes, or ackGrace after the first 2xx, whichever is first. They took
// ~200 µs of INVITE → 200 OK before the 200; run at once after it, their CPU work (syscalls
// that bind and start sockets, goroutines, the front end printing the events) competed with
// the caller for the CPU while it read the 200: a caller on the same host saw it ~180 µs later
// (BenchmarkAutoAnswerPaced). The call's goroutine runs them when WriteResponse returns (the
// ACK, or no ACK at all: step), and waits for them if the timer runs them already.
//
// It also lets the call's goroutine write the 200 itself (writeFirst) before sipgo's
// WriteResponse, which waits for the ACK and so runs on a goroutine of its own, takes it
// over: starting that goroutine first cost ~45 µs of INVITE → 200 OK (a thread woken on the
// other CPU, a new stack grown), 9 % of it.
type afterOK struct {
	sip.ServerTransaction
	mu    sync.Mutex
	then  func()      // what waits for the 200, until taken
	timer *time.Timer // ackGrace after the first 2xx
	ran   sync.Mutex  // held while then runs, so that runThen returns once it has run
	// written is the 2xx writeFirst put on the wire, until WriteResponse's first write of
	// it, which is skipped; early says writeFirst wrote one.
	written *sip.Response
	early   bool
	// sent is closed once the dialog has the first 2xx: sipgo's WriteResponse has stored it
	// (InviteResponse: a BYE is built on it), marked the dialog established and listens for
	// the ACK, and it is on the wire. Or once WriteResponse returned without taking it.
	sent     chan struct{}
	sentOnce sync.Once
}

func newAfterOK(tx sip.ServerTransaction) *afterOK {
	return &afterOK{ServerTransaction: tx, sent: make(chan struct{})}
}

// ackGrace is how long the answer's effects wait for the ACK after our 200: one frame, so the
// media starts at most about a frame later than at once, however slow the ACK.
const ackGrace = 20 * time.Millisecond

// writeFirst writes our 2xx res on the transaction now. WriteResponse must be given the same
// res next: its first write of it is skipped. On an error nothing is written or skipped.
func (t *afterOK) writeFirst(res *sip.Response) error {
	// Marked before the write: the caller's ACK or BYE may be read while it is under way.
	t.mu.Lock()
	t.written, t.early = res, true
	t.mu.Unlock()
	if err := t.ServerTransaction.Respond(res); err != nil {
		t.mu.Lock()
		t.written = nil // WriteResponse writes it itself (and closes sent)
		t.mu.Unlock()
		return err
	}
	t.mu.Lock()
	t.armLocked()
	t.mu.Unlock()
	return nil
}

// Respond sends res, then (first 2xx only) arms the timer that runs what waits for it. The
// 2xx writeFirst sent already is not sent again: the dialog has it now.
func (t *afterOK) Respond(res *sip.Response) error {
	t.mu.Lock()
	if res != nil && res == t.written {
		t.written = nil
		t.mu.Unlock()
		t.markSent()
		select {
		case <-t.Done(): // ended since (a BYE, the phone's stop): WriteResponse need not wait for an ACK
			return t.Err()
		default:
			return nil
		}
	}
	t.mu.Unlock()
	err := t.ServerTransaction.Respond(res)
	if err == nil && res.IsSuccess() {
		t.mu.Lock()
		t.armLocked()
		t.mu.Unlock()
		t.markSent()
	}
	return err
}

// armLocked starts the ackGrace timer at the first 2xx, if something waits for it.
func (t *afterOK) armLocked() {
	if t.then != nil && t.timer == nil {
		t.timer = time.AfterFunc(ackGrace, t.runThen)
	}
}

// markSent closes sent, once.
func (t *afterOK) markSent() { t.sentOnce.Do(func() { close(t.sent) }) }

// dialogRead is sipgo's ReadAck or ReadBye.
type dialogRead func(*sip.Request, sip.ServerTransaction) error

// afterSent returns read run only once the dialog has our 2xx (sent) when writeFirst put it
// on the wire before: the caller's ACK or BYE may come back before WriteResponse's goroutine
// has marked the dialog established, and it would have overwritten what they did (an ACK
// lost, WriteResponse retransmitting for 32 s; a BYE's ended state). The wait is short:
// WriteResponse's goroutine starts as the 200 leaves.
func (t *afterOK) afterSent(read dialogRead) dialogRead {
	return func(req *sip.Request, tx sip.ServerTransaction) error {
		t.mu.Lock()
		early := t.early
		t.mu.Unlock()
		if early {
			<-t.sent
		}
		return read(req, tx)
	}
}

func (t *afterOK) setThen(f func()) {
	t.mu.Lock()
	t.then = f
	t.mu.Unlock()
}

// runThen runs the pending effects, if any, once; a second caller waits until they have run.
func (t *afterOK) runThen() {
	t.ran.Lock()
	defer t.ran.Unlock()
	t.mu.Lock()
	f := t.then
	t.then = nil
	if t.timer != nil {
		t.timer.Stop()
	}
	t.mu.Unlock()
	if f != nil {
		f()
	}
}

// spareMedia is one RTP/RTCP port pair (a media session not started) bound ahead for the
// next incoming call of an automatic answerer (the stack holds it and closes it last), so
// its answer need not bind sockets: ~100 µs of INVITE → 200 OK. An unstarted session costs
// no goroutine and no wakeup.
type spareMedia struct {
	mu      sync.Mutex
	ip      string // the local IP it was opened for
	ms      *media.Session
	filling bool           // a restock is opening one
	wg      sync.WaitGroup // the restock in progress
	closed  bool
}

// take returns the spare session for ip, or nil.
func (s *spareMedia) take(ip string) *media.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.ms == nil || s.ip != ip {
		return nil
	}
	ms := s.ms
	s.ms = nil
	return ms
}

// restock opens a spare session for ip (with cfg) in the background, unless there is one.
// It is called once an answer is on the wire, so the opening never competes with one.
func (s *spareMedia) restock(ip string, cfg media.Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.filling || s.ms != nil && s.ip == ip {
		return
	}
	s.filling = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ms, err := media.Open(cfg)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.filling = false
		if err != nil {
			return // the next call opens its own
		}
		if s.closed {
			ms.Close()
			return
		}
		if s.ms != nil {
			s.ms.Close() // one for another address: this one is for the latest call's
		}
		s.ms, s.ip = ms, ip
	}()
}

// close releases the spare session and waits for a refill in progress.
func (s *spareMedia) close() {
	s.mu.Lock()
	s.closed = true
	ms := s.ms
	s.ms = nil
	s.mu.Unlock()
	s.wg.Wait()
	if ms != nil {
		ms.Close()
	}
	s.mu.Lock()
	if s.ms != nil { // a refill that finished while we waited
		s.ms.Close()
		s.ms = nil
	}
	s.mu.Unlock()
}
