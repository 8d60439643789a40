//go:build cgo && !noportaudio

// Package portaudio is the sound-card backend, built on PortAudio through cgo.
package portaudio

import pa "github.com/gordonklaus/portaudio"

// Available reports whether PortAudio is compiled into this binary.
const Available = true

// Version is the PortAudio library version linked into this binary.
func Version() string { return pa.VersionText() }
