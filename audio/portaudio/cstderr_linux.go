//go:build cgo && !noportaudio

package portaudio

/*
int dtRedirectCStderr(int fd);
*/
import "C"

import (
	"bufio"
	"io"
	"os"
	"strings"
	"syscall"
)

// captureCStderr sends what C code prints through the stdio stream stderr to the debug log, for
// the rest of the process's life. PortAudio prints its own diagnostics that way, from its audio
// thread and outside any call quiet could wrap: when a device goes away mid-call, its ALSA host
// API prints "Expression 'PaAlsaStream_WaitForFrames( stream, &framesAvail, &xrun )' failed in
// 'src/hostapi/alsa/pa_linux_alsa.c'" and more, five or six lines that landed on top of the
// terminal UI. PortAudio's own hook for this (PaUtil_SetDebugPrintFunction) is not exported by
// the Debian library. Only the FILE is replaced, never file descriptor 2: Go's crash reports
// and anything written to fd 2 directly still reach the terminal.
//
// The pipe's write end is non-blocking, so an audio thread never waits on a full pipe (a line is
// dropped instead). The reader goroutine lives as long as the process, like the C hooks of
// silenceLibraries; lines go to whichever logger silenceLibraries last set, or nowhere.
func captureCStderr() {
	r, w, err := os.Pipe()
	if err != nil {
		return
	}
	fd, err := syscall.Dup(int(w.Fd()))
	w.Close()
	if err != nil {
		r.Close()
		return
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil || C.dtRedirectCStderr(C.int(fd)) != 0 {
		syscall.Close(fd)
		r.Close()
		return
	}
	go func() {
		defer r.Close()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if log := noiseLog.Load(); log != nil && strings.TrimSpace(sc.Text()) != "" {
				log.Debug("audio library output", "from", "stderr", "text", sc.Text())
			}
		}
		io.Copy(io.Discard, r)
	}()
}
