//go:build cgo && !noportaudio

package portaudio

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"time"
)

// closeTimeout bounds stopping and closing one stream. A healthy stream stops within one
// buffer (tens of ms); a dead one (ALSA's thread already quit) at once. Only a stream whose
// audio thread is stuck in the sound library (a sound server that hangs: SIGSTOPped, or
// wedged on a dead device) takes longer, and then it never returns at all.
const closeTimeout = 3 * time.Second

// lostCloseTimeout bounds closing a stream already found lost (liveness.go): its audio
// thread has either quit, and the close is immediate, or hangs, and waiting longer is no use.
const lostCloseTimeout = time.Second

// errStuck says a PortAudio call did not return within its bound and was abandoned.
var errStuck = errors.New("the sound library did not return; stream abandoned (the device or sound server hangs)")

// quietBounded is quiet (stderr_linux.go) with a time limit: f runs on its own goroutine, and
// when it has not returned after timeout, fd 2 is given back, the lock released and errStuck
// returned, leaving f behind. A C call that never returns cannot be stopped from Go; what
// matters is that the call ends, BYE is sent and the history written, and that the next
// quiet does not wait for the lock forever. The goroutine left behind ends if f ever
// returns (its result is dropped); if it never does, it ends with the process.
func quietBounded(log *slog.Logger, what string, timeout time.Duration, f func() error) error {
	quietMu.Lock()
	defer quietMu.Unlock()
	done := make(chan error, 1) // buffered: an abandoned f must be able to finish
	syscall.ForkLock.RLock()
	saved, err := syscall.Dup(2)
	if err == nil {
		syscall.CloseOnExec(saved)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		go func() { done <- f() }()
		return waitBounded(done, timeout)
	}
	defer syscall.Close(saved)
	r, w, err := os.Pipe()
	if err != nil {
		go func() { done <- f() }()
		return waitBounded(done, timeout)
	}
	if err := syscall.Dup3(int(w.Fd()), 2, 0); err != nil {
		r.Close()
		w.Close()
		go func() { done <- f() }()
		return waitBounded(done, timeout)
	}
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		defer r.Close()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			log.Debug("audio library output", "during", what, "text", sc.Text())
		}
		io.Copy(io.Discard, r)
	}()
	go func() { done <- f() }()
	ferr := waitBounded(done, timeout)
	syscall.Dup3(saved, 2, 0) // from here an abandoned f writes to the real stderr
	w.Close()
	select {
	case <-logged:
	case <-time.After(200 * time.Millisecond):
	}
	if errors.Is(ferr, errStuck) {
		log.Warn("sound device: a PortAudio call did not return; abandoned", "during", what, "after", timeout.String())
	}
	return ferr
}

func waitBounded(done <-chan error, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("after %v: %w", timeout, errStuck)
	}
}
