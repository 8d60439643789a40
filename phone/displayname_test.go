package phone

import (
	"context"
	"testing"
	"time"
)

// TestDisplayNameWithQuotesArrivesWhole: an account whose display name has quotes and a
// backslash calls and messages another phone, which shows the name exactly. Unquoted, the
// From was malformed ("Alice "Ali" ...") and the far end read "Alice ".
func TestDisplayNameWithQuotesArrivesWhole(t *testing.T) {
	const name = `Alice "Ali" \ Smith`
	_, bAddr, bEv := runPhone(t, Config{})
	a, _, _ := runPhone(t, Config{KeepAlive: -1, Accounts: []Account{{Name: "a", AOR: "sip:alice@127.0.0.1",
		DisplayName: name, Registrar: "sip:" + bAddr,
		Password: func(context.Context) (string, error) { return "x", nil }}}})
	if _, err := a.Dial("a", "sip:bob@"+bAddr, CallAudio{}, DialOptions{RingTimeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if got := waitCall(t, bEv, "", CallIncoming).PeerName; got != name {
		t.Errorf("the call's peer name %q, want %q", got, name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.SendMessage(ctx, "a", "sip:bob@"+bAddr, "hi"); err != nil {
		t.Fatal(err)
	}
	m := waitEvent(t, bEv, "the message", func(ev Event) bool {
		m, ok := ev.(Message)
		return ok && m.Direction == Incoming
	}).(Message)
	if m.PeerName != name {
		t.Errorf("the message's peer name %q, want %q", m.PeerName, name)
	}
}
