package peers

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
)

// SecretServiceOptions configures StartSecretService.
type SecretServiceOptions struct {
	// BusOnly starts the session bus without any Secret Service on it (and nothing
	// activatable), as on a server with D-Bus but no keyring.
	BusOnly bool
	// Locked leaves the login keyring locked: it is created (unlocked) first, then the
	// daemon is restarted without the password. With no prompter on the bus, unlocking
	// fails at once, as it does over ssh.
	Locked bool
}

// SecretService is a private D-Bus session bus (dbus-daemon) with GNOME Keyring's Secret
// Service (gnome-keyring-daemon --components=secrets) on it, both with their state in the
// test's temporary directory: the host's own session bus and keyrings are never touched.
type SecretService struct {
	t      testing.TB
	dir    string
	addr   string
	stops  []func()
	gkBin  string
	gkEnv  []string
	gkLog  string
	busLog string
}

// keyringPassword unlocks the throwaway login keyring.
const keyringPassword = "interop-keyring"

// StartSecretService starts the bus and (unless BusOnly) the keyring daemon and waits until
// org.freedesktop.secrets answers on the bus. It skips the test when dbus-daemon or
// gnome-keyring-daemon is not installed, and stops both at cleanup.
func StartSecretService(t testing.TB, opts SecretServiceOptions) *SecretService {
	t.Helper()
	busBin, ok := findBinary("dbus-daemon")
	if !ok {
		t.Skip("dbus-daemon not found (install the dbus-daemon package)")
	}
	gkBin, ok := findBinary("gnome-keyring-daemon")
	if !ok && !opts.BusOnly {
		t.Skip("gnome-keyring-daemon not found (install the gnome-keyring package)")
	}
	dir := shortTempDir(t)
	s := &SecretService{t: t, dir: dir, gkBin: gkBin,
		gkLog: filepath.Join(dir, "gnome-keyring.log"), busLog: filepath.Join(dir, "dbus.log")}
	t.Cleanup(s.stop)
	sock := filepath.Join(dir, "bus")
	s.addr = "unix:path=" + sock
	conf := `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>` + s.addr + `</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`
	cfg := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatalf("peers: %v", err)
	}
	if err := s.run("dbus-daemon", s.busLog, nil, busBin, "--config-file="+cfg, "--nofork", "--nopidfile"); err != nil {
		t.Fatalf("peers: starting dbus-daemon: %v", err)
	}
	if err := secretsWait(5*time.Second, func() error {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
		}
		return err
	}); err != nil {
		t.Fatalf("peers: dbus-daemon did not listen: %v\n%s", err, secretsLog(s.busLog))
	}
	if opts.BusOnly {
		return s
	}

	home, run := filepath.Join(dir, "home"), filepath.Join(dir, "run")
	for _, d := range []string{home, run} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatalf("peers: %v", err)
		}
	}
	s.gkEnv = []string{"HOME=" + home, "XDG_RUNTIME_DIR=" + run, "XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"), "DBUS_SESSION_BUS_ADDRESS=" + s.addr, "PATH=/usr/bin:/bin"}
	s.startKeyring(true)
	if opts.Locked {
		// Stop the unlocked daemon (its keyring file stays) and start one without the password.
		s.stops[len(s.stops)-1]()
		s.stops = s.stops[:len(s.stops)-1]
		s.startKeyring(false)
	}
	return s
}

func (s *SecretService) startKeyring(unlock bool) {
	args := []string{"--foreground", "--components=secrets"}
	var stdin *strings.Reader
	if unlock {
		// --unlock reads the login keyring's password from stdin and creates the keyring
		// with it when there is none yet.
		args = append(args, "--unlock")
		stdin = strings.NewReader(keyringPassword)
	}
	if err := s.run("gnome-keyring-daemon", s.gkLog, stdin, s.gkBin, args...); err != nil {
		s.t.Fatalf("peers: starting gnome-keyring-daemon: %v", err)
	}
	if err := secretsWait(10*time.Second, s.secretsOwned); err != nil {
		s.t.Fatalf("peers: the Secret Service did not come up: %v\n%s", err, secretsLog(s.gkLog))
	}
}

// run starts one daemon in its own process group, logging to logFile, and registers its stop.
func (s *SecretService) run(name, logFile string, stdin *strings.Reader, bin string, args ...string) error {
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if stdin != nil {
		cmd.Stdin = stdin
	}
	if name == "gnome-keyring-daemon" {
		cmd.Env = s.gkEnv
	}
	done, err := startGroup(cmd, func(error) {})
	if err != nil {
		return err
	}
	pid := cmd.Process.Pid
	s.stops = append(s.stops, func() { stopGroup(s.t, name, pid, done, stopTimeout) })
	return nil
}

// dial opens a private connection to the bus that ctx's end closes.
func (s *SecretService) dial(ctx context.Context) (*dbus.Conn, error) {
	conn, err := dbus.Dial(s.addr, dbus.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	if err := conn.Auth(nil); err != nil {
		conn.Close()
		return nil, err
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// secretsOwned asks the bus whether org.freedesktop.secrets has an owner.
func (s *SecretService) secretsOwned() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var owned bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.secrets").Store(&owned); err != nil {
		return err
	}
	if !owned {
		return fmt.Errorf("org.freedesktop.secrets has no owner yet")
	}
	return nil
}

// loginLocked reads the Locked property of the default (login) collection.
func (s *SecretService) loginLocked() (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := s.dial(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	var v dbus.Variant
	err = conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets/aliases/default").
		CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, "org.freedesktop.Secret.Collection", "Locked").Store(&v)
	if err != nil {
		return false, err
	}
	locked, ok := v.Value().(bool)
	if !ok {
		return false, fmt.Errorf("Locked is %T, not a boolean", v.Value())
	}
	return locked, nil
}

// Address returns the bus address, for DBUS_SESSION_BUS_ADDRESS.
func (s *SecretService) Address() string { return s.addr }

// Env returns the environment a client needs: DBUS_SESSION_BUS_ADDRESS.
func (s *SecretService) Env() []string { return []string{"DBUS_SESSION_BUS_ADDRESS=" + s.addr} }

// Log returns what gnome-keyring-daemon and dbus-daemon printed.
func (s *SecretService) Log() string {
	return "--- gnome-keyring-daemon ---\n" + secretsLog(s.gkLog) + "--- dbus-daemon ---\n" + secretsLog(s.busLog)
}

// stop ends the keyring daemon, then the bus.
func (s *SecretService) stop() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
	s.stops = nil
}

func secretsLog(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)\n", path, err)
	}
	return string(b)
}

// secretsWait polls check every 50 ms until it returns nil or timeout passes.
func secretsWait(timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
