//go:build cgo && !noportaudio

package portaudio

import (
	"bufio"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

// quiet runs f with file descriptor 2 pointed at a pipe and logs whatever was written there
// at debug level. ALSA (and JACK, which PortAudio probes on Linux) print diagnostics straight
// to stderr from C while PortAudio enumerates and opens devices: "ALSA lib pcm_dsnoop.c: unable
// to open slave", "Cannot connect to server socket", and so on, even when everything works.
// In a full-screen terminal UI that text lands on top of the display. silenceLibraries
// reroutes the error hooks ALSA and JACK offer, but not everything goes through them (ALSA
// plugins and the libraries they load may print directly), so around these calls the
// descriptor itself is borrowed as well.
//
// While f runs, anything else in the process that writes to stderr goes to the logger too. A
// Go crash in that window would be lost with the pipe (a fatal error inside PortAudio's Go
// binding died with exit 2 and no word), so the runtime also writes crash reports to the real
// stderr meanwhile (debug.SetCrashOutput: the traceback, which says where; its one-line header
// goes to fd 2 alone). The calls wrapped are short (initialise, open, start, stop, terminate)
// to keep the window small.
func quiet(log *slog.Logger, what string, f func() error) error {
	quietMu.Lock()
	defer quietMu.Unlock()
	giveBack := borrowStderr(log, what)
	defer giveBack()
	return f()
}

// borrowStderr points file descriptor 2 at a pipe whose lines are logged at debug level, and
// returns what gives it back (after which the logging goroutine ends, waited for at most
// 200 ms). Without a stderr, or if the pipe cannot be made, it changes nothing. The caller
// holds quietMu.
func borrowStderr(log *slog.Logger, what string) (giveBack func()) {
	syscall.ForkLock.RLock() // no exec may inherit saved before it is close-on-exec
	saved, err := syscall.Dup(2)
	if err == nil {
		syscall.CloseOnExec(saved)
	}
	syscall.ForkLock.RUnlock()
	if err != nil { // no stderr at all: nothing to protect
		return func() {}
	}
	r, w, err := os.Pipe()
	if err != nil {
		syscall.Close(saved)
		return func() {}
	}
	// A crash report goes to the real stderr as well (SetCrashOutput takes a copy of the
	// descriptor), then to nowhere else again once fd 2 is back.
	syscall.ForkLock.RLock()
	crash, err := syscall.Dup(saved)
	if err == nil {
		syscall.CloseOnExec(crash)
	}
	syscall.ForkLock.RUnlock()
	if err == nil {
		f := os.NewFile(uintptr(crash), "stderr")
		_ = debug.SetCrashOutput(f, debug.CrashOptions{})
		f.Close()
	}
	// Dup3 rather than Dup2: linux/arm64 has no dup2 system call.
	if err := syscall.Dup3(int(w.Fd()), 2, 0); err != nil {
		_ = debug.SetCrashOutput(nil, debug.CrashOptions{})
		r.Close()
		w.Close()
		syscall.Close(saved)
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer r.Close()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			log.Debug("audio library output", "during", what, "text", sc.Text())
		}
		io.Copy(io.Discard, r) // an over-long line stopped the scanner: keep the pipe drained
	}()
	return func() {
		syscall.Dup3(saved, 2, 0)
		_ = debug.SetCrashOutput(nil, debug.CrashOptions{})
		syscall.Close(saved)
		w.Close()
		// Normally the reader sees EOF at once. A helper process that inherited the pipe (none
		// is expected) would hold it open, so do not wait for it forever.
		select {
		case <-done:
		case <-time.After(200 * time.Millisecond):
		}
	}
}
