//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: the master (the "keyboard and screen") and the
// slave (what the program sees as its terminal).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	// Non-blocking, so that os.File puts it in the poller and read deadlines work.
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	m := os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// On a terminal the password is prompted for on stderr and typed without echo, and the
// terminal's echo is back on afterwards.
func TestReadPasswordFromTerminalWithoutEcho(t *testing.T) {
	master, slave := openPTY(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	e := &env{ctx: ctx, stdin: slave, stderr: &stderr}

	type result struct {
		pw  string
		err error
	}
	done := make(chan result, 1)
	go func() {
		pw, err := e.readPassword("Password: ")
		done <- result{pw, err}
	}()
	// Type once echo is off, as a person would after the prompt.
	deadline := time.Now().Add(5 * time.Second)
	for {
		tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("echo was never turned off")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := master.Write([]byte("typed s3cret\n")); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		t.Fatal("readPassword did not return")
	}
	if r.err != nil || r.pw != "typed s3cret" {
		t.Fatalf("readPassword = %q, %v", r.pw, r.err)
	}
	if !strings.HasPrefix(stderr.String(), "Password: ") {
		t.Errorf("prompt %q", stderr.String())
	}
	// Whatever the terminal shows must not contain the password.
	master.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	buf := make([]byte, 4096)
	n, _ := master.Read(buf)
	if strings.Contains(string(buf[:n]), "s3cret") {
		t.Errorf("the terminal echoed the password: %q", buf[:n])
	}
	tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&unix.ECHO == 0 {
		t.Error("echo is still off after reading the password")
	}
}

// Ctrl-C (the context ending) at the prompt returns at once and turns echo back on.
func TestReadPasswordInterruptedRestoresEcho(t *testing.T) {
	_, slave := openPTY(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	e := &env{ctx: ctx, stdin: slave, stderr: &stderr}
	done := make(chan error, 1)
	go func() {
		_, err := e.readPassword("Password: ")
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("echo was never turned off")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "interrupted") {
			t.Errorf("err = %v, want interrupted", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("readPassword did not return after cancellation")
	}
	tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&unix.ECHO == 0 {
		t.Error("echo is still off after the interruption")
	}
}
