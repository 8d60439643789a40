//go:build cgo && !noportaudio && race

package portaudio

import (
	"runtime/debug"
	"strings"
)

// With -race the compiler also turns on checkptr, and github.com/gordonklaus/portaudio passes
// its integer stream id to C as an unsafe.Pointer: checkptr aborts the process on the second
// stream the binary opens. Stream tests skip in such builds; to race-test them anyway, run
// go test -race -gcflags=all=-d=checkptr=0.
const checkptrBreaksStreams = true

// checkptrOff reports whether the test binary was built with checkptr disabled.
func checkptrOff() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-gcflags" && strings.Contains(s.Value, "checkptr=0") {
			return true
		}
	}
	return false
}
