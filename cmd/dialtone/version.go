package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/dialtone/dialtone/audio/portaudio"
)

// versionText says what this binary is: version, commit, Go version, and whether PortAudio
// is compiled in (builds without cgo only do WAV and null audio).
func versionText() string {
	v, c := version, commit
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && c == "" {
				c = s.Value
			}
		}
	}
	if c == "" {
		c = "unknown"
	}
	pa := "no (built without cgo or with -tags noportaudio)"
	if portaudio.Available {
		pa = "yes, " + portaudio.Version()
	}
	s := fmt.Sprintf("dialtone %s\ncommit:    %s\n", v, c)
	if date != "" {
		s += fmt.Sprintf("built:     %s\n", date)
	}
	return s + fmt.Sprintf("go:        %s %s/%s\nportaudio: %s", runtime.Version(), runtime.GOOS, runtime.GOARCH, pa)
}
