//go:build linux

package config

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startBus starts a private D-Bus session bus (the real dbus-daemon) on a
// socket in a temporary directory, with serviceDir (if any) as its only
// directory of activatable services, and returns its address. The daemon's
// process group is killed at cleanup.
func startBus(t *testing.T, serviceDir string) string {
	t.Helper()
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon not installed (Debian package dbus-daemon)")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "bus")
	services := ""
	if serviceDir != "" {
		services = "<servicedir>" + serviceDir + "</servicedir>"
	}
	conf := `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=` + sock + `</listen>
  <auth>EXTERNAL</auth>
  ` + services + `
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`
	cfg := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config-file="+cfg, "--nofork", "--nopidfile")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting dbus-daemon: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("dbus-daemon did not open its socket within 5s")
		}
	}
	return "unix:path=" + sock
}

func TestProbeNoSessionBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	if _, err := os.Stat(filepath.Join("/run/user", strconv.Itoa(os.Getuid()), "bus")); err == nil {
		t.Skip("this machine has a session bus in /run/user; cannot test its absence")
	}
	err := probeKeyring(context.Background())
	if !errors.Is(err, ErrNoKeyring) {
		t.Fatalf("err = %v, want ErrNoKeyring", err)
	}
	for _, want := range []string{"no D-Bus session bus", "DBUS_SESSION_BUS_ADDRESS", "dbus-run-session", "gnome-keyring", "password_cmd"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestProbeDeadBusSocket(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "gone"))
	err := probeKeyring(context.Background())
	if !errors.Is(err, ErrNoKeyring) || !strings.Contains(err.Error(), "cannot reach the D-Bus session bus") {
		t.Fatalf("err = %v", err)
	}
}

// A socket that accepts and then says nothing must not hang the probe.
func TestProbeSilentSocketIsBounded(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "silent")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered, closed with the listener's test
		}
	}()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+sock)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = probeKeyring(ctx)
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("probe took %v on a silent socket", took)
	}
	if err == nil {
		t.Fatal("probe succeeded on a socket that is no bus")
	}
}

func TestProbeBusWithoutSecretService(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", startBus(t, ""))
	err := probeKeyring(context.Background())
	if !errors.Is(err, ErrNoKeyring) {
		t.Fatalf("err = %v, want ErrNoKeyring", err)
	}
	for _, want := range []string{"no Secret Service", "gnome-keyring", "KeePassXC"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// A Secret Service the bus can start on demand (D-Bus activation, as desktop
// sessions set up GNOME Keyring) counts as present.
func TestProbeActivatableSecretService(t *testing.T) {
	services := t.TempDir()
	file := "[D-BUS Service]\nName=org.freedesktop.secrets\nExec=/bin/false\n"
	if err := os.WriteFile(filepath.Join(services, "org.freedesktop.secrets.service"), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", startBus(t, services))
	if err := probeKeyring(context.Background()); err != nil {
		t.Fatalf("activatable Secret Service: %v", err)
	}
}

// The bus socket in $XDG_RUNTIME_DIR is found without DBUS_SESSION_BUS_ADDRESS,
// and the address is exported for go-keyring.
func TestProbeFindsRuntimeDirBus(t *testing.T) {
	addr := startBus(t, "")
	sock := strings.TrimPrefix(addr, "unix:path=")
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", filepath.Dir(sock))
	err := probeKeyring(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no Secret Service") {
		t.Fatalf("err = %v, want the bus found and no Secret Service on it", err)
	}
	if got := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); got != addr {
		t.Errorf("DBUS_SESSION_BUS_ADDRESS = %q, want %q", got, addr)
	}
}
