package config

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// useMockKeyring puts go-keyring's in-memory mock behind the keyring source
// and skips the D-Bus probe (tested on its own in keyring_dbus_test.go).
func useMockKeyring(t *testing.T) {
	t.Helper()
	keyring.MockInit()
	probe := keyringProbe
	keyringProbe = func(context.Context) error { return nil }
	t.Cleanup(func() { keyringProbe = probe })
}

func TestKeyringUser(t *testing.T) {
	for _, tc := range []struct {
		aor, authUser, want string
	}{
		{"sip:alice@example.com", "", "alice@example.com"},
		{"sip:alice@Example.COM:5080;transport=tcp", "", "alice@example.com"}, // domain case and port do not matter
		{"sips:alice@example.com", "4711", "4711@example.com"},                // the digest user, not the AOR user
		{"sip:+4930123@sip.example.net", "", "+4930123@sip.example.net"},
	} {
		a := Account{Name: "x", AOR: tc.aor, AuthUser: tc.authUser}
		if got, err := a.KeyringUser(); err != nil || got != tc.want {
			t.Errorf("KeyringUser(%s, %q) = %q, %v; want %q", tc.aor, tc.authUser, got, err, tc.want)
		}
	}
	if _, err := (Account{Name: "x", AOR: "alice@example.com"}).KeyringUser(); err == nil {
		t.Error("KeyringUser accepted an AOR without sip:")
	}
}

func TestKeyringPasswordRoundTrip(t *testing.T) {
	useMockKeyring(t)
	ctx := context.Background()
	a := Account{Name: "work", AOR: "sip:alice@example.com", AuthUser: "4711", PasswordKeyring: "dialtone"}
	if !a.HasPassword() {
		t.Fatal("HasPassword false with password_keyring")
	}

	_, err := a.Password(ctx)
	if !errors.Is(err, ErrKeyringNotFound) {
		t.Fatalf("nothing stored: err = %v, want ErrKeyringNotFound", err)
	}
	for _, want := range []string{"account work", "4711@example.com", `"dialtone"`, "dialtone password set work"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("not-found error %q lacks %q", err, want)
		}
	}

	if err := a.StorePassword(ctx, secret); err != nil {
		t.Fatal(err)
	}
	// Stored where the docs say: service "dialtone", user AUTH_USER@DOMAIN.
	if got, err := keyring.Get("dialtone", "4711@example.com"); err != nil || got != secret {
		t.Fatalf("keyring item = %q, %v", got, err)
	}
	if pw, err := a.Password(ctx); err != nil || pw != secret {
		t.Fatalf("Password = %q, %v", pw, err)
	}
	// Another account with the same credentials shares the item; a renamed one keeps it.
	b := a
	b.Name = "renamed"
	if pw, err := b.Password(ctx); err != nil || pw != secret {
		t.Errorf("renamed account: %q, %v", pw, err)
	}
	// Another service name is another item.
	c := a
	c.PasswordKeyring = "other"
	if _, err := c.Password(ctx); !errors.Is(err, ErrKeyringNotFound) {
		t.Errorf("other service: %v", err)
	}

	if err := a.DeleteStoredPassword(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Password(ctx); !errors.Is(err, ErrKeyringNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if err := a.DeleteStoredPassword(ctx); !errors.Is(err, ErrKeyringNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

func TestKeyringStoreRefusesBadInput(t *testing.T) {
	useMockKeyring(t)
	ctx := context.Background()
	a := Account{Name: "work", AOR: "sip:alice@example.com"}
	if err := a.StorePassword(ctx, secret); err == nil || !strings.Contains(err.Error(), `password_keyring = "dialtone"`) {
		t.Errorf("no password_keyring: %v", err)
	}
	a.PasswordKeyring = "dialtone"
	if err := a.StorePassword(ctx, ""); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty password: %v", err)
	}
	a.PasswordKeyring = "dial\ntone"
	if err := a.StorePassword(ctx, secret); err == nil || !strings.Contains(err.Error(), "control character") {
		t.Errorf("control character in service: %v", err)
	}
}

func TestKeyringEmptyStoredPassword(t *testing.T) {
	useMockKeyring(t)
	if err := keyring.Set("dialtone", "alice@example.com", ""); err != nil {
		t.Fatal(err)
	}
	a := Account{Name: "w", AOR: "sip:alice@example.com", PasswordKeyring: "dialtone"}
	if _, err := a.Password(context.Background()); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty stored password: %v", err)
	}
}

func TestKeyringErrorsAreExplained(t *testing.T) {
	useMockKeyring(t)
	a := Account{Name: "w", AOR: "sip:alice@example.com", PasswordKeyring: "dialtone"}
	for _, tc := range []struct {
		err  string
		want []string
	}{
		// What go-keyring says for a locked collection with nobody to answer the prompt.
		{"failed to unlock correct collection '/org/freedesktop/secrets/collection/login'", []string{"locked", "gnome-keyring-daemon --unlock", "failed to unlock"}},
		// What godbus says with no session bus address and no dbus-launch.
		{`exec: "dbus-launch": executable file not found in $PATH`, []string{"D-Bus session bus", "dbus-run-session", "gnome-keyring"}},
		{"something else entirely", []string{"password_keyring", "something else entirely"}},
	} {
		keyring.MockInitWithError(errors.New(tc.err))
		_, err := a.Password(context.Background())
		if err == nil {
			t.Fatalf("%s: no error", tc.err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.err, err, w)
			}
		}
	}
}

func TestKeyringProbeFailureStopsBeforeGoKeyring(t *testing.T) {
	useMockKeyring(t)
	called := false
	get := keyringGet
	keyringGet = func(s, u string) (string, error) { called = true; return get(s, u) }
	t.Cleanup(func() { keyringGet = get })
	keyringProbe = func(context.Context) error { return errors.Join(ErrNoKeyring, errors.New("no bus here")) }

	a := Account{Name: "w", AOR: "sip:alice@example.com", PasswordKeyring: "dialtone"}
	_, err := a.Password(context.Background())
	if !errors.Is(err, ErrNoKeyring) || !strings.Contains(err.Error(), "no bus here") {
		t.Errorf("err = %v, want the probe's error", err)
	}
	if called {
		t.Error("go-keyring was called although the probe failed")
	}
}

// A keyring that never answers (an unlock prompt nobody sees) must not hang
// registration: the call gives up after keyringTimeout, and later calls
// neither hang nor start a second stuck operation.
func TestKeyringHungServiceIsBounded(t *testing.T) {
	useMockKeyring(t)
	defer func(d time.Duration) { keyringTimeout = d }(keyringTimeout)
	keyringTimeout = 150 * time.Millisecond

	release := make(chan struct{})
	calls := make(chan struct{}, 10)
	get := keyringGet
	keyringGet = func(s, u string) (string, error) {
		calls <- struct{}{}
		<-release
		return secret, nil
	}
	t.Cleanup(func() { keyringGet = get })

	a := Account{Name: "w", AOR: "sip:alice@example.com", PasswordKeyring: "dialtone"}
	for i := range 3 {
		start := time.Now()
		_, err := a.Password(context.Background())
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("call %d took %v", i, took)
		}
		if !errors.Is(err, ErrNoKeyring) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "within 150ms") {
			t.Fatalf("call %d: err = %v, want a timeout naming 150ms", i, err)
		}
	}
	if n := len(calls); n != 1 {
		t.Errorf("%d keyring operations started, want 1 (the stuck one blocks the others)", n)
	}

	// The caller's own deadline wins and is reported as such.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Password(ctx); !errors.Is(err, context.Canceled) || errors.Is(err, ErrNoKeyring) {
		t.Errorf("cancelled caller: err = %v", err)
	}

	// Once the stuck call returns, the keyring works again.
	keyringGet = func(s, u string) (string, error) { return secret, nil }
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		pw, err := a.Password(context.Background())
		if err == nil && pw == secret {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("keyring still unusable after the stuck call returned: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKeyringValidation(t *testing.T) {
	for _, tc := range []struct {
		extra, wantErr string
	}{
		{`password_keyring = "dialtone"`, ""},
		{`password_keyring = "dialtone"` + "\n" + `password_env = "PW"`, "only one password source may be set, but password_env is set too"},
		{`password_file = "pw"` + "\n" + `password_keyring = "dialtone"`, "account[0].password_keyring: only one password source may be set, but password_file is set too"},
		{`password_keyring = "dial\u0007tone"`, "account[0].password_keyring: contains control character U+0007"},
		{`password_keyring = "` + strings.Repeat("k", 300) + `"`, "a keyring service name has at most 256"},
		{`password_keyring = 7`, "password_keyring: must be a string"},
	} {
		data := "[[account]]\nname = \"w\"\naor = \"sip:alice@example.com\"\n" + tc.extra + "\n"
		f, err := Decode("c.toml", []byte(data))
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.extra, err)
		case tc.wantErr == "" && f.Accounts[0].PasswordKeyring != "dialtone":
			t.Errorf("%s: decoded %+v", tc.extra, f.Accounts[0])
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: err = %v, want %q", tc.extra, err, tc.wantErr)
		}
	}
}
