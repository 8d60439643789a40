//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package config

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	dbus "github.com/godbus/dbus/v5"
)

// The build constraint is go-keyring's own for its Secret Service backend.

const secretsName = "org.freedesktop.secrets"

// probeKeyring checks that the D-Bus session bus answers and that a Secret
// Service runs on it or can be started by it (D-Bus activation), all bounded
// by ctx. go-keyring then finds the bus at the same address.
func probeKeyring(ctx context.Context) error {
	addr, err := sessionBusAddress()
	if err != nil {
		return err
	}
	// A private connection: go-keyring's shared one has no context, and
	// closing ours must not disturb it.
	conn, err := dbus.Dial(addr, dbus.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("%w: cannot reach the D-Bus session bus at %s: %v; %s", ErrNoKeyring, addr, err, noBusAdvice)
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return fmt.Errorf("%w: the D-Bus session bus at %s refused us: %v; %s", ErrNoKeyring, addr, err, noBusAdvice)
	}
	if err := conn.Hello(); err != nil {
		return fmt.Errorf("%w: the D-Bus session bus at %s did not answer: %v; %s", ErrNoKeyring, addr, err, noBusAdvice)
	}
	bus := conn.BusObject()
	var owned bool
	if err := bus.CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, secretsName).Store(&owned); err != nil {
		return fmt.Errorf("%w: asking the D-Bus session bus for the Secret Service: %v", ErrNoKeyring, err)
	}
	if owned {
		return nil
	}
	var activatable []string
	if err := bus.CallWithContext(ctx, "org.freedesktop.DBus.ListActivatableNames", 0).Store(&activatable); err != nil {
		return fmt.Errorf("%w: asking the D-Bus session bus for the Secret Service: %v", ErrNoKeyring, err)
	}
	if slices.Contains(activatable, secretsName) {
		return nil // the bus starts it on the first call
	}
	return fmt.Errorf("%w: no Secret Service (%s) runs on the D-Bus session bus; %s", ErrNoKeyring, secretsName, noServiceAdvice)
}

// sessionBusAddress finds the session bus the way libdbus and godbus do:
// $DBUS_SESSION_BUS_ADDRESS, else the socket "bus" in $XDG_RUNTIME_DIR or
// /run/user/UID. Unlike godbus it never falls back to starting a bus with
// dbus-launch: that would leave a stray daemon behind. A discovered address
// is put into the environment so that go-keyring (godbus) uses the same bus.
func sessionBusAddress() (string, error) {
	if addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" && addr != "autolaunch:" {
		return addr, nil
	}
	var dirs []string
	if d := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(d) {
		dirs = append(dirs, d)
	}
	dirs = append(dirs, "/run/user/"+strconv.Itoa(os.Getuid()))
	for _, d := range dirs {
		sock := filepath.Join(d, "bus")
		if st, err := os.Stat(sock); err == nil && st.Mode().Type() == os.ModeSocket {
			addr := "unix:path=" + dbus.EscapeBusAddressValue(sock)
			os.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
			return addr, nil
		}
	}
	return "", fmt.Errorf("%w: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set and there is no %s); %s",
		ErrNoKeyring, strings.Join(busSockets(dirs), " or "), noBusAdvice)
}

func busSockets(dirs []string) []string {
	s := make([]string, len(dirs))
	for i, d := range dirs {
		s[i] = filepath.Join(d, "bus")
	}
	return s
}
