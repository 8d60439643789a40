package config

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// The password_keyring source keeps the password in the OS keyring: the
// Secret Service over D-Bus on Linux and the BSDs (GNOME Keyring, KWallet
// 5.97+, KeePassXC), the login Keychain on macOS, the Credential Manager on
// Windows. The config value is the keyring *service* name ("dialtone");
// the keyring *user* is derived from the account as AUTH_USER@AOR_DOMAIN
// (KeyringUser). That key names the credential itself, not the config entry:
// renaming the account keeps the password, two accounts that log in with the
// same credentials share it, and a different auth_user at the same provider
// gets its own. On the Secret Service the item carries the attributes
// service=SERVICE and username=AUTH_USER@AOR_DOMAIN, so `secret-tool store
// --label dialtone service dialtone username alice@example.com` stores one
// too.

// KeyringTimeout bounds one keyring operation when the caller's context
// allows longer. It is generous because the keyring may show an unlock
// prompt on the desktop that the user has to answer.
const KeyringTimeout = 30 * time.Second

// keyringTimeout is KeyringTimeout, shortened by tests.
var keyringTimeout = KeyringTimeout

// The keyring operations, replaced by tests that need one to block.
var (
	keyringGet    = keyring.Get
	keyringSet    = keyring.Set
	keyringDelete = keyring.Delete
)

// keyringProbe checks, before go-keyring is called, that a keyring service
// can be reached (on Linux: a D-Bus session bus with a Secret Service on it).
// It exists because go-keyring cannot be cancelled and, without a session
// bus address, would try to autolaunch one with dbus-launch. Unit tests that
// use go-keyring's mock replace it.
var keyringProbe = probeKeyring

// keyringSlot allows one keyring operation at a time. go-keyring takes no
// context, so an operation that outlives its deadline keeps running in its
// goroutine until D-Bus (or the macOS security tool) answers; the slot stays
// taken until then, so repeated attempts queue behind it (each bounded by
// its own context) instead of piling up goroutines.
var keyringSlot = make(chan struct{}, 1)

// ErrNoKeyring marks errors that say no usable keyring service runs: no
// session bus, no Secret Service on it, or a keyring that did not answer.
var ErrNoKeyring = errors.New("no keyring service")

// KeyringUser returns the keyring user name the account's password is
// stored under: the digest user name (auth_user, by default the AOR's user)
// "@" the AOR's domain in lower case, e.g. "alice@example.com".
func (a Account) KeyringUser() (string, error) {
	aor, err := parseURI(a.AOR, true)
	if err != nil {
		return "", fmt.Errorf("aor %q: %v", a.AOR, err)
	}
	user := a.AuthUser
	if user == "" {
		user = aor.user
	}
	return user + "@" + strings.ToLower(aor.host), nil
}

func (a Account) keyringPassword(ctx context.Context) (string, error) {
	user, err := a.KeyringUser()
	if err != nil {
		return "", fmt.Errorf("account %s: password_keyring: %w", a.Name, err)
	}
	var pw string
	get := keyringGet // read here, not on keyringDo's goroutine, which may outlive this call
	err = keyringDo(ctx, func() error {
		var err error
		pw, err = get(a.PasswordKeyring, user)
		return err
	})
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return "", fmt.Errorf("account %s: password_keyring: no password for %s in keyring service %q; store it with `dialtone password set %s`: %w",
			a.Name, user, a.PasswordKeyring, a.Name, err)
	case err != nil:
		return "", fmt.Errorf("account %s: password_keyring %q (user %s): %w", a.Name, a.PasswordKeyring, user, err)
	case pw == "":
		return "", fmt.Errorf("account %s: password_keyring: the password stored for %s in keyring service %q is empty", a.Name, user, a.PasswordKeyring)
	}
	return pw, nil
}

// StorePassword saves password in the OS keyring under the account's
// password_keyring service and KeyringUser, replacing any stored before.
func (a Account) StorePassword(ctx context.Context, password string) error {
	user, err := a.keyringKey()
	if err != nil {
		return err
	}
	if password == "" {
		return fmt.Errorf("account %s: not storing an empty password", a.Name)
	}
	set := keyringSet
	err = keyringDo(ctx, func() error { return set(a.PasswordKeyring, user, password) })
	if err != nil {
		return fmt.Errorf("account %s: storing the password for %s in keyring service %q: %w", a.Name, user, a.PasswordKeyring, err)
	}
	return nil
}

// DeleteStoredPassword removes the account's password from the OS keyring.
// Deleting a password that is not there is an error wrapping
// keyring.ErrNotFound.
func (a Account) DeleteStoredPassword(ctx context.Context) error {
	user, err := a.keyringKey()
	if err != nil {
		return err
	}
	del := keyringDelete
	err = keyringDo(ctx, func() error { return del(a.PasswordKeyring, user) })
	if err != nil {
		return fmt.Errorf("account %s: deleting the password for %s from keyring service %q: %w", a.Name, user, a.PasswordKeyring, err)
	}
	return nil
}

// ErrKeyringNotFound is go-keyring's "secret not found in keyring".
var ErrKeyringNotFound = keyring.ErrNotFound

func (a Account) keyringKey() (string, error) {
	if a.PasswordKeyring == "" {
		return "", fmt.Errorf("account %s has no password_keyring; add password_keyring = \"dialtone\" to its [[account]] table", a.Name)
	}
	if err := checkText(a.PasswordKeyring); err != nil {
		return "", fmt.Errorf("account %s: password_keyring: %v", a.Name, err)
	}
	user, err := a.KeyringUser()
	if err != nil {
		return "", fmt.Errorf("account %s: %w", a.Name, err)
	}
	return user, nil
}

// keyringDo runs op (a go-keyring call) after the probe, bounded by ctx and
// keyringTimeout. See keyringSlot for what happens to an op that overruns.
func keyringDo(ctx context.Context, op func() error) error {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, keyringTimeout)
	defer cancel()
	timedOut := func() error {
		if parent.Err() != nil {
			return fmt.Errorf("the keyring did not answer: %w", parent.Err())
		}
		return fmt.Errorf("%w: the keyring did not answer within %v (is an unlock prompt waiting, or is the keyring service hung?): %w",
			ErrNoKeyring, keyringTimeout, ctx.Err())
	}
	select {
	case keyringSlot <- struct{}{}:
	case <-ctx.Done():
		return timedOut()
	}
	if err := keyringProbe(ctx); err != nil {
		<-keyringSlot
		if ctx.Err() != nil {
			return timedOut()
		}
		return err
	}
	done := make(chan error, 1)
	go func() {
		defer func() { <-keyringSlot }()
		done <- explainKeyringError(op())
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return timedOut()
	}
}

// explainKeyringError adds what to do to go-keyring's terse errors.
func explainKeyringError(err error) error {
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return err
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "failed to unlock"), strings.Contains(msg, "prompt"):
		return fmt.Errorf("the keyring is locked and was not unlocked (log in to the desktop session, or unlock it with `gnome-keyring-daemon --unlock` or your keyring's own tool): %w", err)
	case strings.Contains(msg, "dbus-launch"), strings.Contains(msg, "session bus"):
		return fmt.Errorf("%w: %s: %w", ErrNoKeyring, noBusAdvice, err)
	}
	return err
}

// What to do when the keyring cannot be reached over D-Bus.
const (
	noBusAdvice = "the keyring needs a D-Bus session bus, which a desktop login provides; " +
		"without one (a server, ssh) run dialtone under `dbus-run-session` with a Secret Service started in it " +
		"(`gnome-keyring-daemon --unlock --components=secrets`, Debian/Ubuntu package gnome-keyring), " +
		"or use password_cmd or password_file instead"
	noServiceAdvice = "install and start one: GNOME Keyring (Debian/Ubuntu package gnome-keyring, " +
		"`gnome-keyring-daemon --start --components=secrets`), KWallet 5.97 or later, or KeePassXC with " +
		"Secret Service integration turned on; or use password_cmd or password_file instead"
)
