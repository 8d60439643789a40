package peers

import (
	"testing"

	"github.com/zalando/go-keyring"
)

// The peer is what the keyring tests rely on: an unlocked service stores and returns a
// secret through go-keyring; a locked one refuses at once (no prompter, as over ssh).
// Not parallel: go-keyring finds the bus through the process environment.
func TestSecretService(t *testing.T) {
	s := StartSecretService(t, SecretServiceOptions{})
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", s.Address())
	if err := keyring.Set("peers-test", "alice@example.com", "s3cret"); err != nil {
		t.Fatalf("Set: %v\n%s", err, s.Log())
	}
	if got, err := keyring.Get("peers-test", "alice@example.com"); err != nil || got != "s3cret" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if _, err := keyring.Get("peers-test", "bob@example.com"); err != keyring.ErrNotFound {
		t.Fatalf("Get of a missing item: %v, want ErrNotFound", err)
	}

	if l, err := s.loginLocked(); err != nil || l {
		t.Fatalf("unlocked service: login keyring locked=%v, %v", l, err)
	}

	// go-keyring keeps one connection per process, so the other buses are checked directly.
	locked := StartSecretService(t, SecretServiceOptions{Locked: true})
	if l, err := locked.loginLocked(); err != nil || !l {
		t.Fatalf("Locked: login keyring locked=%v, %v", l, err)
	}

	bare := StartSecretService(t, SecretServiceOptions{BusOnly: true})
	if err := bare.secretsOwned(); err == nil {
		t.Fatal("BusOnly: org.freedesktop.secrets has an owner")
	}
}
