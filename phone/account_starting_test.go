package phone

import (
	"context"
	"errors"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestAccountNotStartedYetIsAnError: between AddAccount filing an account and starting its SIP
// side, a call or message through it (an INVITE for its user, `ctl dial`) finds no wire. That
// is an error to report, not a nil dereference that ends the process.
func TestAccountNotStartedYetIsAnError(t *testing.T) {
	p, err := New(Config{Accounts: []Account{{Name: "a", AOR: "sip:alice@127.0.0.1",
		Password: func(context.Context) (string, error) { return "x", nil }}}})
	if err != nil {
		t.Fatal(err)
	}
	acc := p.accountList()[0]
	if p.wire(acc.Name) != nil {
		t.Fatal("a phone that never ran has a wire: the test proves nothing")
	}
	if _, err := p.legFor(context.Background(), nil, acc, sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1"}); !errors.Is(err, errAccountStarting) {
		t.Errorf("legFor: %v, want errAccountStarting", err)
	}
	if _, err := p.wire(acc.Name).passwordFor(context.Background()); !errors.Is(err, errAccountStarting) {
		t.Errorf("passwordFor: %v, want errAccountStarting", err)
	}
	if host, port := p.wire(acc.Name).publicAddr(); host != "" || port != 0 {
		t.Errorf("publicAddr: %s:%d, want nothing learnt", host, port)
	}
}

// TestAccountAddedWhileRunStartsOrStops: accounts added while Run starts (the TUI's first-run
// form racing the phone's start) are all started, and one added as Run ends neither panics
// nor outlives it. An account added between Run's list of accounts and its publishing the
// stack was never started (no wire, for good); one added during shutdown joined regWG while
// Run waited on it. A stress test: the windows are narrow, so it runs the race many times.
func TestAccountAddedWhileRunStartsOrStops(t *testing.T) {
	for round := range 30 {
		p, err := New(Config{ListenAddr: "127.0.0.1:0", KeepAlive: -1})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		names := []string{"a", "b", "c"}
		for _, n := range names {
			if err := p.AddAccount(Account{Name: n, AOR: "sip:" + n + "@127.0.0.1"}); err != nil {
				t.Fatal(err)
			}
		}
		<-p.Ready()
		for _, n := range names {
			if p.wire(n) == nil {
				t.Fatalf("round %d: account %s added as Run started was never started", round, n)
			}
		}
		cancel()
		_ = p.AddAccount(Account{Name: "late", AOR: "sip:late@127.0.0.1", Register: true,
			Password: func(context.Context) (string, error) { return "x", nil }})
		if err := <-done; err != nil {
			t.Fatalf("round %d: Run: %v", round, err)
		}
	}
}
