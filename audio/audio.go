// Package audio defines where call audio comes from and goes to. Every interface moves whole
// 20 ms frames of mono 16-bit PCM, at 8 kHz (FrameSamples samples) unless the source or sink
// is a RateSetter told the call's rate; backends convert rates and channels at their edge. Standard library only; the PortAudio backend lives in
// audio/portaudio behind a build tag.
package audio

import "errors"

// The format that crosses every interface in this package.
const (
	SampleRate   = 8000
	FrameSamples = 160 // 20 ms
)

// ErrUnavailable is returned when a backend cannot work in this build or on this machine
// (for example PortAudio in a build without cgo, or no sound device).
var ErrUnavailable = errors.New("audio backend unavailable")

// Source produces audio to send. Read never blocks for long: the media session paces calls
// every 20 ms, and a device source returns what it has captured (silence on underrun).
type Source interface {
	// Read fills frame (len FrameSamples) with the next 20 ms. It returns io.EOF when a finite
	// source (a file) has ended; frame is then unspecified.
	Read(frame []int16) error
	Close() error
}

// Sink consumes received audio. Write never blocks for long either.
type Sink interface {
	// Write takes one frame (len FrameSamples); the sink must not keep the slice.
	Write(frame []int16) error
	Close() error
}

// RateSetter is a Source or Sink that works at more than 8 kHz. The media session calls
// SetRate with the call's audio rate (its codec's SampleRate: 8000, 16000 or 48000) before the
// first frame and again if a re-INVITE changes the codec; frames are then rate/50 samples
// long. A Source or Sink without it moves 8 kHz frames, and the session converts.
type RateSetter interface {
	SetRate(hz int) error
}

// Device describes a sound device a backend offers.
type Device struct {
	Index         int
	Name          string
	HostAPI       string
	MaxInputs     int
	MaxOutputs    int
	DefaultInput  bool
	DefaultOutput bool
	DefaultRate   float64
}

// Backend opens sources and sinks on sound devices. name selects a device by name or index;
// "" is the system default.
type Backend interface {
	Devices() ([]Device, error)
	OpenSource(name string) (Source, error)
	OpenSink(name string) (Sink, error)
	Close() error
}
