package phone

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// scriptedWire answers REGISTERs from a script and records what was asked.
type scriptedWire struct {
	mu      sync.Mutex
	asked   []time.Duration // expires of each call
	answers []func(expires time.Duration) (regResult, error)
	calls   chan time.Duration
}

func (w *scriptedWire) register(ctx context.Context, expires time.Duration) (regResult, error) {
	w.mu.Lock()
	w.asked = append(w.asked, expires)
	n := len(w.asked)
	var f func(time.Duration) (regResult, error)
	if n <= len(w.answers) {
		f = w.answers[n-1]
	} else {
		f = w.answers[len(w.answers)-1]
	}
	w.mu.Unlock()
	defer func() { w.calls <- expires }()
	return f(expires)
}

func ok(granted time.Duration) func(time.Duration) (regResult, error) {
	return func(e time.Duration) (regResult, error) {
		if e == 0 {
			return regResult{Code: 200, Reason: "OK"}, nil
		}
		return regResult{Code: 200, Reason: "OK", Expires: granted, Contact: "sip:a@127.0.0.1:1"}, nil
	}
}

func fail(f Failure, code int) func(time.Duration) (regResult, error) {
	return func(time.Duration) (regResult, error) {
		return regResult{}, &Error{Op: "register", Failure: f, Code: code, Reason: "x"}
	}
}

type loopHarness struct {
	clock  *fakeClock
	wire   *scriptedWire
	events chan AccountStatus
	lost   chan flowLoss
	cancel context.CancelFunc
	done   chan struct{}
}

func startLoop(t *testing.T, answers ...func(time.Duration) (regResult, error)) *loopHarness {
	t.Helper()
	h := &loopHarness{
		clock:  newFakeClock(),
		wire:   &scriptedWire{answers: answers, calls: make(chan time.Duration, 100)},
		events: make(chan AccountStatus, 100),
		lost:   make(chan flowLoss, 1),
		done:   make(chan struct{}),
	}
	b := newBackoff(2*time.Second, 5*time.Minute)
	b.rand = func() float64 { return 0 } // lower bound of the jitter: deterministic
	l := &regLoop{account: "a", aor: "sip:a@x", expires: 60 * time.Second, wire: h.wire, clock: h.clock,
		backoff: b, publish: func(s AccountStatus) { h.events <- s }, lost: h.lost}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	h.cancel = cancel
	go func() { l.run(ctx); close(h.done) }()
	t.Cleanup(func() { cancel(); <-h.done })
	return h
}

func (h *loopHarness) next(t *testing.T) AccountStatus {
	t.Helper()
	select {
	case s := <-h.events:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	return AccountStatus{}
}

func (h *loopHarness) waitTimer(t *testing.T) {
	t.Helper()
	select {
	case <-h.clock.added:
	case <-time.After(5 * time.Second):
		t.Fatal("loop set no timer")
	}
}

func (h *loopHarness) callCount() int {
	h.wire.mu.Lock()
	defer h.wire.mu.Unlock()
	return len(h.wire.asked)
}

func TestRegLoopRefreshesAtHalfTheGrantedLifetime(t *testing.T) {
	h := startLoop(t, ok(40*time.Second))
	if s := h.next(t); s.State != Registering {
		t.Fatalf("first event %v, want registering", s.State)
	}
	s := h.next(t)
	if s.State != Registered || s.Expires != 40*time.Second {
		t.Fatalf("got %v expires %v, want registered 40s", s.State, s.Expires)
	}
	h.waitTimer(t)
	if p := h.clock.pending(); len(p) != 1 || p[0] != 20*time.Second {
		t.Fatalf("refresh timer %v, want [20s]", p)
	}
	h.clock.Advance(19 * time.Second)
	if n := h.callCount(); n != 1 {
		t.Fatalf("REGISTERs after 19s: %d, want 1 (no early refresh)", n)
	}
	h.clock.Advance(1 * time.Second)
	if s := h.next(t); s.State != Registered {
		t.Fatalf("after refresh: %v", s.State)
	}
	if n := h.callCount(); n != 2 {
		t.Fatalf("REGISTERs after 20s: %d, want 2", n)
	}
	// Shutdown unregisters with Expires: 0.
	h.cancel()
	if s := h.next(t); s.State != Unregistered {
		t.Fatalf("after cancel: %v, want unregistered", s.State)
	}
	<-h.done
	if last := h.wire.asked[len(h.wire.asked)-1]; last != 0 {
		t.Fatalf("last REGISTER asked expires %v, want 0", last)
	}
}

func TestRegLoopBacksOffExponentiallyThenRecovers(t *testing.T) {
	h := startLoop(t, fail(FailureNetwork, 0), fail(FailureNetwork, 0), fail(FailureRefused, 503), ok(60*time.Second))
	h.next(t)                                                                  // registering
	want := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second} // half of 2s, 4s, 8s with zero jitter
	for i, w := range want {
		s := h.next(t)
		if s.State != RegFailed || s.RetryIn != w {
			t.Fatalf("failure %d: %v retry %v, want failed retry %v", i, s.State, s.RetryIn, w)
		}
		h.waitTimer(t)
		h.clock.Advance(w)
	}
	if s := h.next(t); s.State != Registered {
		t.Fatalf("after retries: %v, want registered", s.State)
	}
	if n := h.callCount(); n != 4 {
		t.Fatalf("REGISTERs: %d, want 4", n)
	}
}

func TestRegLoopStopsAfterWrongPassword(t *testing.T) {
	h := startLoop(t, fail(FailureAuth, 401))
	h.next(t)
	s := h.next(t)
	if s.State != RegFailed || s.Failure != FailureAuth || !s.Terminal() {
		t.Fatalf("got %+v, want terminal auth failure", s)
	}
	h.clock.Advance(time.Hour)
	select {
	case e := <-h.events:
		t.Fatalf("unexpected event after a wrong password: %+v", e)
	case <-time.After(50 * time.Millisecond):
	}
	if n := h.callCount(); n != 1 {
		t.Fatalf("REGISTER attempts: %d, want 1 (no retry storm)", n)
	}
	h.cancel()
	<-h.done
	if n := h.callCount(); n != 1 {
		t.Fatalf("never-registered account sent an unregister: %d calls", n)
	}
}

// TestRegLoopRetriesRefusedCredentialsThatWorkedBefore: a refresh is refused 403 after the
// account was registered with the same credentials (the provider's user database down, a
// keyring locked again): the account tries again in authRetryAfter instead of staying offline
// until a restart.
func TestRegLoopRetriesRefusedCredentialsThatWorkedBefore(t *testing.T) {
	h := startLoop(t, ok(60*time.Second), fail(FailureAuth, 403), fail(FailureConfig, 0), ok(60*time.Second))
	h.next(t) // registering
	if s := h.next(t); s.State != Registered {
		t.Fatalf("first: %+v", s)
	}
	h.waitTimer(t)
	h.clock.Advance(30 * time.Second) // the refresh
	for i, want := range []Failure{FailureAuth, FailureConfig} {
		s := h.next(t)
		if s.State != RegFailed || s.Failure != want || s.RetryIn != authRetryAfter || s.Terminal() {
			t.Fatalf("refusal %d: %+v, want %v with a retry in %v", i, s, want, authRetryAfter)
		}
		h.waitTimer(t)
		h.clock.Advance(authRetryAfter)
	}
	if s := h.next(t); s.State != Registered {
		t.Fatalf("after the retries: %+v, want registered", s)
	}
}

// TestRegLoopRetriesAFailedPasswordSource: the password source fails before the account ever
// registered (dialtone started at login, the keyring not yet unlocked): the account asks it
// again in passwordRetryAfter and registers once it answers. It stayed offline until a
// restart, as after a wrong password.
func TestRegLoopRetriesAFailedPasswordSource(t *testing.T) {
	locked := func(time.Duration) (regResult, error) {
		return regResult{}, &Error{Op: "register", Failure: FailureConfig, Reason: "no password",
			Err: fmt.Errorf("%w: %w", errPasswordSource, errors.New("secret-tool: the keyring is locked"))}
	}
	h := startLoop(t, locked, ok(60*time.Second))
	h.next(t) // registering
	if s := h.next(t); s.State != RegFailed || s.Failure != FailureConfig || s.RetryIn != passwordRetryAfter || s.Terminal() {
		t.Fatalf("got %+v, want a config failure retried in %v", s, passwordRetryAfter)
	}
	h.waitTimer(t)
	h.clock.Advance(passwordRetryAfter)
	if s := h.next(t); s.State != Registered {
		t.Fatalf("after the source answered: %+v, want registered", s)
	}
}

func TestBackoffIsBoundedAndJittered(t *testing.T) {
	b := newBackoff(time.Second, 8*time.Second)
	b.rand = func() float64 { return 0.999999 }
	var got []time.Duration
	for range 6 {
		got = append(got, b.next().Round(time.Millisecond))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("upper bounds %v, want %v", got, want)
		}
	}
	b.reset()
	b.rand = func() float64 { return 0 }
	if d := b.next(); d != 500*time.Millisecond {
		t.Fatalf("after reset, lower bound %v, want 500ms", d)
	}
}

func TestRefreshAfter(t *testing.T) {
	for _, c := range []struct{ in, want time.Duration }{
		{3600 * time.Second, 1800 * time.Second},
		{4 * time.Second, 2 * time.Second},
		{time.Second, 500 * time.Millisecond},
		{0, 500 * time.Millisecond},
	} {
		if got := refreshAfter(c.in); got != c.want {
			t.Errorf("refreshAfter(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestRegLoopReRegistersAtOnceWhenItsFlowDies(t *testing.T) {
	h := startLoop(t, ok(time.Hour), fail(FailureNetwork, 0), ok(time.Hour))
	h.next(t) // registering
	if s := h.next(t); s.State != Registered || flowOf(s.Contact) != "127.0.0.1:1" {
		t.Fatalf("got %v contact %q, want registered on 127.0.0.1:1", s.State, s.Contact)
	}
	h.waitTimer(t)
	h.clock.Advance(flowMinLife) // the connection lived: its death is an accident
	// A report about another connection (an older binding's) changes nothing.
	h.lost <- flowLoss{flow: "127.0.0.1:9", reason: "old"}
	select {
	case s := <-h.events:
		t.Fatalf("a stale flow report caused %v", s.State)
	case <-time.After(50 * time.Millisecond):
	}
	h.lost <- flowLoss{flow: "127.0.0.1:1", reason: "the connection to the registrar was closed"}
	s := h.next(t)
	if s.State != Recovering || s.Reason != "the connection to the registrar was closed" {
		t.Fatalf("got %v %q, want recovering with the reason", s.State, s.Reason)
	}
	// The first new REGISTER fails: the loop backs off as for any failure, then succeeds.
	s = h.next(t)
	if s.State != RegFailed || s.RetryIn != time.Second {
		t.Fatalf("got %v retry %v, want failed, retry 1s", s.State, s.RetryIn)
	}
	h.waitTimer(t)
	h.clock.Advance(time.Second)
	if s := h.next(t); s.State != Registered {
		t.Fatalf("after the retry: %v, want registered", s.State)
	}
	if n := h.callCount(); n != 3 {
		t.Fatalf("REGISTERs: %d, want 3 (no refresh was due: the hour never passed)", n)
	}
}

// TestRegLoopBacksOffWhenFlowsDieYoung: the registrar (or a middlebox) closes each connection
// soon after its 200. The loop reconnects after an exponential wait (RFC 5626 4.5), not in a
// tight REGISTER-close loop, and a connection that then lives resets the wait.
func TestRegLoopBacksOffWhenFlowsDieYoung(t *testing.T) {
	h := startLoop(t, ok(time.Hour))
	h.next(t) // registering
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if s := h.next(t); s.State != Registered {
			t.Fatalf("round %d: %v, want registered", i, s.State)
		}
		h.waitTimer(t)
		h.lost <- flowLoss{flow: "127.0.0.1:1", reason: "closed"}
		s := h.next(t)
		if s.State != Recovering || s.RetryIn != want {
			t.Fatalf("round %d: %v retry %v, want recovering, retry %v", i, s.State, s.RetryIn, want)
		}
		h.waitTimer(t)
		if n := h.callCount(); n != i+1 {
			t.Fatalf("round %d: %d REGISTERs before the wait was over, want %d", i, n, i+1)
		}
		h.clock.Advance(want)
	}
	if s := h.next(t); s.State != Registered {
		t.Fatalf("after the waits: %v, want registered", s.State)
	}
	h.waitTimer(t)
	h.clock.Advance(flowMinLife) // this one lives
	h.lost <- flowLoss{flow: "127.0.0.1:1", reason: "closed"}
	if s := h.next(t); s.State != Recovering || s.RetryIn != 0 {
		t.Fatalf("a connection that lived: %v retry %v, want recovering at once", s.State, s.RetryIn)
	}
	if s := h.next(t); s.State != Registered {
		t.Fatalf("%v, want registered", s.State)
	}
}

// TestRegLoopRegistersAtOnceAfterASleep: a loss because the computer slept, however soon
// after the REGISTER by the awake clock, is registered again at once, not backed off as a
// connection that died young: each short wake lengthened the wait, up to 5 minutes.
func TestRegLoopRegistersAtOnceAfterASleep(t *testing.T) {
	h := startLoop(t, ok(time.Hour))
	h.next(t) // registering
	for i := range 3 {
		if s := h.next(t); s.State != Registered {
			t.Fatalf("round %d: %v, want registered", i, s.State)
		}
		h.waitTimer(t)
		h.lost <- flowLoss{flow: "127.0.0.1:1", reason: "the computer was asleep for 2h0m0s", slept: true}
		if s := h.next(t); s.State != Recovering || s.RetryIn != 0 {
			t.Fatalf("round %d: %v retry %v, want recovering at once", i, s.State, s.RetryIn)
		}
	}
}

// TestAsleepReadsTheTwoClocks: the time one clock ran on and the other did not is the sleep;
// markNow's clocks both move, the one that counts suspends never behind the other.
func TestAsleepReadsTheTwoClocks(t *testing.T) {
	a := wakeMark{boot: 10 * time.Second, mono: 5 * time.Second}
	b := wakeMark{boot: 10*time.Second + 2*time.Hour + 25*time.Second, mono: 30 * time.Second}
	if got := asleep(a, b); got != 2*time.Hour {
		t.Fatalf("asleep = %v, want 2h", got)
	}
	if got := asleep(b, b); got != 0 {
		t.Fatalf("asleep(x, x) = %v", got)
	}
	m1 := markNow()
	time.Sleep(20 * time.Millisecond)
	m2 := markNow()
	if m2.mono <= m1.mono || m2.boot <= m1.boot || asleep(m1, m2) >= sleptMin {
		t.Fatalf("marks %+v then %+v: want both clocks moving, no sleep", m1, m2)
	}
}

func TestRegStateNames(t *testing.T) {
	for s, want := range map[RegState]string{Unregistered: "unregistered", Registering: "registering",
		Registered: "registered", RegFailed: "registration_failed", Recovering: "recovering", RegState(9): "RegState(9)"} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", int(s), s.String(), want)
		}
	}
}

// TestRegLoopHonoursRetryAfter: a registrar's 503 with Retry-After (maintenance) is tried again
// when it said, not at the backoff's next second; Retry-After is read in its written forms.
func TestRegLoopHonoursRetryAfter(t *testing.T) {
	busy := func(time.Duration) (regResult, error) {
		return regResult{}, &Error{Op: "register", Failure: FailureRefused, Code: 503, Reason: "Service Unavailable", RetryAfter: 2 * time.Minute}
	}
	h := startLoop(t, busy, ok(time.Hour))
	h.next(t) // registering
	if s := h.next(t); s.State != RegFailed || s.RetryIn != 2*time.Minute {
		t.Fatalf("%v retry %v, want failed, retry 2m (the Retry-After)", s.State, s.RetryIn)
	}
	for in, want := range map[string]time.Duration{"120": 2 * time.Minute, "120 (maintenance)": 2 * time.Minute,
		"120;duration=60": 2 * time.Minute, "999999": time.Hour, "soon": 0, "-5": 0} {
		res := sip.NewResponseFromRequest(sip.NewRequest(sip.REGISTER, sip.Uri{Host: "x"}), 503, "Busy", nil)
		res.AppendHeader(sip.NewHeader("Retry-After", in))
		if got := retryAfter(res); got != want {
			t.Errorf("Retry-After %q: %v, want %v", in, got, want)
		}
	}
}

// TestRegLoopRemovesABindingMadeAsItStops: the first REGISTER succeeds just as the phone
// stops; the binding is removed (Expires: 0) like any other, not left at the registrar.
func TestRegLoopRemovesABindingMadeAsItStops(t *testing.T) {
	var h *loopHarness
	started := make(chan struct{})
	stopThenOK := func(e time.Duration) (regResult, error) {
		if e > 0 {
			<-started // h is set
			h.cancel()
		}
		return ok(time.Hour)(e)
	}
	h = startLoop(t, stopThenOK)
	close(started)
	<-h.done
	h.wire.mu.Lock()
	defer h.wire.mu.Unlock()
	if len(h.wire.asked) != 2 || h.wire.asked[1] != 0 {
		t.Fatalf("REGISTERs asked %v, want the binding and then its removal (0)", h.wire.asked)
	}
}

// A Retry-After holds for a failed target list only when every server said one (the
// soonest): one server's hour of maintenance kept the account off the others for an hour.
func TestFailoverRetryAfterNeedsEveryServer(t *testing.T) {
	busy := func(d time.Duration) error {
		return &Error{Op: "register", Failure: FailureRefused, Code: 503, Reason: "Busy", RetryAfter: d}
	}
	tried := func(errs ...error) []attempt {
		var out []attempt
		for _, err := range errs {
			out = append(out, attempt{err: err})
		}
		return out
	}
	if got := failoverError("register", tried(busy(time.Hour), errNoAnswer)).RetryAfter; got != 0 {
		t.Errorf("one server's Retry-After, the other silent: %v, want none", got)
	}
	if got := failoverError("register", tried(busy(time.Hour), busy(2*time.Minute))).RetryAfter; got != 2*time.Minute {
		t.Errorf("both said one: %v, want the soonest, 2m", got)
	}
}

// TestRegLoopFlowAgeCountsFromItsFirstREGISTER: refreshes on the same connection do not make
// it young again: with a lifetime of a minute (a refresh every 30 s), a connection that has
// carried the binding for over two minutes and dies is replaced at once, not after a backoff.
func TestRegLoopFlowAgeCountsFromItsFirstREGISTER(t *testing.T) {
	h := startLoop(t, ok(time.Minute))
	h.next(t)     // registering
	for range 5 { // registered, then four refreshes 30 s apart: 2 minutes on one connection
		if s := h.next(t); s.State != Registered {
			t.Fatalf("%v, want registered", s.State)
		}
		h.waitTimer(t)
		h.clock.Advance(30 * time.Second)
	}
	h.next(t) // the last refresh's registered
	h.waitTimer(t)
	h.clock.Advance(10 * time.Second)
	h.lost <- flowLoss{flow: "127.0.0.1:1", reason: "closed"}
	if s := h.next(t); s.State != Recovering || s.RetryIn != 0 {
		t.Fatalf("a connection that lived 2m10s: %v retry %v, want recovering at once", s.State, s.RetryIn)
	}
}
