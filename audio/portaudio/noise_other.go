//go:build cgo && !noportaudio && !linux

package portaudio

import "log/slog"

// The stderr noise handled on Linux comes from ALSA and JACK; the host APIs on other systems
// (Core Audio, WASAPI) do not print, so there is nothing to redirect or silence.

func quiet(log *slog.Logger, what string, f func() error) error { return f() }

func borrowStderr(log *slog.Logger, what string) (giveBack func()) { return func() {} }

func silenceLibraries(log *slog.Logger) {}

func releaseLibraries(log *slog.Logger) {}
