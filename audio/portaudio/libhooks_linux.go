//go:build cgo && !noportaudio

package portaudio

/*
#cgo LDFLAGS: -ldl
void dtSilenceLibraries(void);
*/
import "C"

import (
	"log/slog"
	"sync"
	"sync/atomic"
)

var (
	noiseLog    atomic.Pointer[slog.Logger]
	silenceOnce sync.Once
)

// silenceLibraries sends ALSA's and JACK's own error reports to log (debug level) for the
// rest of the process's life. quiet covers initialise/open/close, but ALSA also reports while
// a stream runs, from PortAudio's audio thread: every xrun prints "ALSA lib pcm.c:...
// (snd_pcm_recover) underrun occurred", which would scribble over the terminal UI mid-call.
// fd 2 cannot stay redirected for a whole call (a crash report would vanish), so instead the
// libraries' error hooks are replaced. The hooks are looked up with dlsym in the already
// loaded libraries, so building needs neither ALSA nor JACK headers, and a PortAudio built
// without either simply skips that hook. The hooks are process-wide, which is fine in
// dialtone: nothing else in the process talks to ALSA or JACK.
func silenceLibraries(log *slog.Logger) {
	noiseLog.Store(log)
	silenceOnce.Do(func() {
		C.dtSilenceLibraries()
		captureCStderr() // cstderr_linux.go
	})
}

// releaseLibraries stops logging library messages to log (if it is still the one in use):
// the logger may belong to something that ends with the Backend. Later messages are dropped.
func releaseLibraries(log *slog.Logger) { noiseLog.CompareAndSwap(log, nil) }

// dtLibraryMessage is called from C (any thread, including the audio thread) with one
// message from lib ("alsa" or "jack").
//
//export dtLibraryMessage
func dtLibraryMessage(lib, msg *C.char) {
	if log := noiseLog.Load(); log != nil {
		log.Debug("audio library output", "from", C.GoString(lib), "text", C.GoString(msg))
	}
}
