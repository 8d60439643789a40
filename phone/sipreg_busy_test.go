package phone

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestCallsDoNotWaitForARefreshInProgress: a refresh to a registrar that went silent waits
// for its transaction (32 s over UDP); calls through the account meanwhile, placed or
// answered, go out at once with the binding the last REGISTER settled, and a password already
// known is not fetched again. They waited for the refresh before: an incoming call rang out
// unanswered for half a minute.
func TestCallsDoNotWaitForARefreshInProgress(t *testing.T) {
	live := startSIPServer(t, 200)
	addr := live.addr
	fetched := 0
	pw := func(context.Context) (string, error) { fetched++; return "secret", nil }
	a, aAddr, aEv := runPhone(t, Config{KeepAlive: -1, AutoAnswer: true,
		AutoAnswerAudio: func(CallStatus) (CallAudio, error) { return CallAudio{}, nil },
		Accounts:        []Account{{Name: "a", AOR: "sip:alice@127.0.0.1", Registrar: "sip:" + addr, Password: pw}}})
	wire := a.wire("a")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bound := registerBound(t, ctx, wire)
	if _, err := wire.passwordFor(ctx); err != nil {
		t.Fatal(err)
	}

	// The registrar goes silent at the same address; a refresh starts and waits for it.
	live.stop()
	_, silentGot := silentUDPAt(t, addr)
	refreshed := refreshInBackground(t, wire, func() bool { return silentGot() > 0 })

	within := func(what string, f func() error) {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- f() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s during the refresh: %v", what, err)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("%s waited for the refresh in progress", what)
		}
	}
	within("a call's Contact", func() error {
		c, dest, err := wire.callContact(ctx)
		if err == nil && (c.String() != bound.String() || dest != addr) {
			t.Errorf("call Contact %s to %s, want the binding %s to %s", c.String(), dest, bound.String(), addr)
		}
		return err
	})
	within("a challenge's password", func() error { _, err := wire.passwordFor(ctx); return err })
	if fetched != 1 {
		t.Errorf("password fetched %d times, want once", fetched)
	}

	// End to end: a call to the account is answered while the refresh waits.
	b, _, bEv := runPhone(t, Config{KeepAlive: -1})
	bid, err := b.Dial("", "sip:alice@"+aAddr, CallAudio{}, DialOptions{RingTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	within("an incoming call", func() error {
		for {
			select {
			case ev := <-bEv:
				if s, ok := ev.(CallStatus); ok && s.ID == bid {
					switch s.State {
					case CallAnswered:
						return nil
					case CallEnded:
						t.Errorf("call ended unanswered: %s", s.Reason)
						return nil
					}
				}
			case <-time.After(5 * time.Second):
				return nil // within reports the wait
			}
		}
	})
	t.Logf("answered %v after the INVITE, a refresh waiting meanwhile", time.Since(start))
	ours := waitCall(t, aEv, "", CallAnswered)
	if ours.Account != "a" {
		t.Errorf("answered on account %q, want a", ours.Account)
	}
	if err := b.Hangup(bid); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-refreshed:
		t.Fatalf("the refresh ended early (%v): the test did not run during it", err)
	default:
	}
}

// TestTCPCallsDoNotWaitForARefreshInProgress: over TCP, a refresh to a registrar that keeps the
// connection but stops answering waits for its transaction; a call meanwhile goes out at once
// with the binding, which names that same live connection. It waited for the refresh.
func TestTCPCallsDoNotWaitForARefreshInProgress(t *testing.T) {
	reg := startTCPRegistrar(t)
	a, _, _ := runPhone(t, Config{KeepAlive: -1, Accounts: []Account{{Name: "a", AOR: "sip:alice@127.0.0.1",
		Registrar: "sip:" + reg.ln.Addr().String(), Transport: TCP, Password: func(context.Context) (string, error) { return "x", nil }}}})
	wire := a.wire("a")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bound := registerBound(t, ctx, wire)
	reg.mu.Lock()
	reg.deaf = true
	reg.mu.Unlock()
	refreshInBackground(t, wire, func() bool { _, regs := reg.state(); return len(regs) >= 2 })
	for i := range 2 { // twice: looking at the connection must not close it
		done := make(chan error, 1)
		go func() {
			c, _, err := wire.callContact(ctx)
			if err == nil && c.String() != bound.String() {
				err = fmt.Errorf("call Contact %s, want the binding %s", c.String(), bound.String())
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("call %d: its Contact waited for the refresh in progress", i+1)
		}
	}
}

// refreshInBackground starts a refresh of wire's registration that runs until the test ends,
// and returns once reached says the registrar has it; the channel gives the refresh's end.
func refreshInBackground(t *testing.T, wire *sipRegistrar, reached func() bool) <-chan error {
	t.Helper()
	rctx, stopRefresh := context.WithCancel(context.Background())
	refreshed, done := make(chan error, 1), make(chan struct{})
	go func() { _, err := wire.register(rctx, time.Minute); refreshed <- err; close(done) }()
	t.Cleanup(func() { stopRefresh(); <-done })
	for deadline := time.Now().Add(5 * time.Second); !reached(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the refresh never reached the registrar")
		}
	}
	return refreshed
}

// registerBound registers wire once and returns the Contact its calls then carry.
func registerBound(t *testing.T, ctx context.Context, wire *sipRegistrar) sip.Uri {
	t.Helper()
	if _, err := wire.register(ctx, time.Minute); err != nil {
		t.Fatalf("first REGISTER: %v", err)
	}
	bound, _, err := wire.callContact(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return bound
}
