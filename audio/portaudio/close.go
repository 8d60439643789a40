//go:build cgo && !noportaudio

package portaudio

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
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

// quietMu serialises quiet and quietBounded: fd 2 is process-wide, so two overlapping
// redirections would restore each other's pipes.
var quietMu sync.Mutex

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
	giveBack := borrowStderr(log, what)
	go func() { done <- f() }()
	ferr := waitBounded(done, timeout)
	giveBack() // from here an abandoned f writes to the real stderr
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
