package interop

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
	"github.com/dialtone/dialtone/phone/config"
)

// keyringExampleConfig is the keyring example of docs/PROVIDERS.md pointed at k (its domain
// example.net stays the AOR's, so the keyring user stays alice@example.net).
func keyringExampleConfig(t *testing.T, k *peers.Kamailio) string {
	t.Helper()
	ex := findExample(t, providerExamples(t), "The password in the OS keyring")
	if !strings.Contains(ex.toml, `password_keyring = "dialtone"`) || !strings.Contains(ex.toml, `aor = "sip:alice@example.net"`) {
		t.Fatalf("the keyring example changed; update this test:\n%s", ex.toml)
	}
	text := strings.Replace(ex.toml, `aor = "sip:alice@example.net"`,
		fmt.Sprintf("aor = \"sip:alice@example.net\"\nregistrar = \"sip:%s\"", k.HostPort("udp")), 1)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The keyring example registers with its password stored by `dialtone password set` in a real
// Secret Service (GNOME Keyring on a private D-Bus). Not parallel: when the password command
// is not in the CLI, the password is stored from this process, through the environment.
func TestKeyringPasswordRegisters(t *testing.T) {
	const password = "keyring-secret"
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: map[string]string{"alice": password}, Domain: "example.net"})
	s := peers.StartSecretService(t, peers.SecretServiceOptions{})
	cfg := keyringExampleConfig(t, k)

	code, _, p := runDialtoneStdin(t, password+"\n", s.Env(), "--config", cfg, "password", "set", "home")
	switch {
	case code == 2 && strings.Contains(p.transcript(), "unexpected argument password"):
		t.Log("`dialtone password` is not in the CLI yet; storing the password from the test")
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", s.Address())
		f, err := config.Load(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := f.Accounts[0].StorePassword(ctx, password); err != nil {
			t.Fatalf("%v\n%s", err, s.Log())
		}
	case code != 0:
		t.Fatalf("password set: exit %d\n%s\n%s", code, p.transcript(), s.Log())
	case !strings.Contains(p.transcript(), "user alice@example.net"):
		t.Errorf("password set does not name the keyring user:\n%s", p.transcript())
	}

	code, evs, p := runDialtone(t, 30*time.Second, s.Env(), "register", "--once", "--json", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s\n%s", code, p.transcript(), s.Log())
	}
	if _, ok := findEvent(evs, "registered"); !ok {
		t.Fatalf("no registered event: %v", names(evs))
	}
	if strings.Contains(p.transcript(), password) {
		t.Fatal("the password appears in dialtone's output")
	}
}

// Where the keyring cannot give the password, registration stops with exit 2 at once and the
// message says what is wrong and what to do.
func TestKeyringUnavailableIsAClearUsageError(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: map[string]string{"alice": "x"}, Domain: "example.net"})
	cfg := keyringExampleConfig(t, k)
	cases := []struct {
		name string
		env  func(t *testing.T) []string
		want []string
	}{
		{"no session bus", func(t *testing.T) []string {
			return []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(t.TempDir(), "none"), "XDG_RUNTIME_DIR=" + t.TempDir()}
		}, []string{"D-Bus session bus", "dbus-run-session", "gnome-keyring"}},
		{"bus without Secret Service", func(t *testing.T) []string {
			return peers.StartSecretService(t, peers.SecretServiceOptions{BusOnly: true}).Env()
		}, []string{"no Secret Service", "gnome-keyring", "KeePassXC"}},
		{"locked keyring", func(t *testing.T) []string {
			return peers.StartSecretService(t, peers.SecretServiceOptions{Locked: true}).Env()
		}, []string{"locked", "--unlock"}},
		{"nothing stored", func(t *testing.T) []string {
			return peers.StartSecretService(t, peers.SecretServiceOptions{}).Env()
		}, []string{"no password for alice@example.net", "dialtone password set home"}},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			code, _, p := runDialtone(t, 40*time.Second, c.env(t), "register", "--once", "--json", "--config", cfg)
			took := time.Since(start)
			if code != 2 {
				t.Fatalf("exit %d, want 2\n%s", code, p.transcript())
			}
			for _, w := range c.want {
				if !strings.Contains(p.transcript(), w) {
					t.Errorf("output lacks %q:\n%s", w, p.transcript())
				}
			}
			t.Logf("gave up after %v:\n%s", took.Round(time.Millisecond), p.transcript())
			if took > 15*time.Second {
				t.Errorf("took %v to give up", took)
			}
		})
	}
}
