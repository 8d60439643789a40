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
