// Package null is the audio backend for machines without sound: its source gives silence and
// its sink throws audio away. It keeps calls working headless (CI, servers, --audio null)
// and makes a handy stand-in in tests. Standard library only.
package null

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/dialtone/dialtone/audio"
)

// DeviceName is the name of the one device the backend offers.
const DeviceName = "null"

// ErrClosed is returned when a closed Backend, Source or Sink is used.
var ErrClosed = errors.New("null audio: closed")

var (
	_ audio.Backend = (*Backend)(nil)
	_ audio.Source  = (*Source)(nil)
	_ audio.Sink    = (*Sink)(nil)
)

// Backend offers a single silent device. Safe for concurrent use.
type Backend struct {
	mu     sync.Mutex
	closed bool
}

// New returns a null Backend.
func New() *Backend { return &Backend{} }

// Devices returns the single "null" device, default for both input and output.
func (b *Backend) Devices() ([]audio.Device, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	return []audio.Device{{
		Index:         0,
		Name:          DeviceName,
		HostAPI:       DeviceName,
		MaxInputs:     1,
		MaxOutputs:    1,
		DefaultInput:  true,
		DefaultOutput: true,
		DefaultRate:   audio.SampleRate,
	}}, nil
}

// OpenSource opens a source of silence. name may be "", "null" or "0".
func (b *Backend) OpenSource(name string) (audio.Source, error) {
	if err := b.checkDevice(name); err != nil {
		return nil, err
	}
	return &Source{}, nil
}

// OpenSink opens a sink that discards what it is given. name may be "", "null" or "0".
func (b *Backend) OpenSink(name string) (audio.Sink, error) {
	if err := b.checkDevice(name); err != nil {
		return nil, err
	}
	return &Sink{}, nil
}

// Close closes the backend; streams already open keep working. Idempotent.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

func (b *Backend) check() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	return nil
}

func (b *Backend) checkDevice(name string) error {
	if err := b.check(); err != nil {
		return err
	}
	switch name {
	case "", DeviceName, "0":
		return nil
	}
	return fmt.Errorf("null audio: no device %q (the only one is %q)", name, DeviceName)
}

// Source gives endless silence.
type Source struct{ closed atomic.Bool }

// Read fills frame with zeros.
func (s *Source) Read(frame []int16) error {
	if s.closed.Load() {
		return ErrClosed
	}
	clear(frame)
	return nil
}

// Close is idempotent.
func (s *Source) Close() error {
	s.closed.Store(true)
	return nil
}

// Sink discards audio, counting the frames it was given.
type Sink struct {
	closed atomic.Bool
	frames atomic.Int64
}

// Write discards frame.
func (s *Sink) Write(frame []int16) error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.frames.Add(1)
	return nil
}

// Frames is how many frames were written.
func (s *Sink) Frames() int64 { return s.frames.Load() }

// Close is idempotent.
func (s *Sink) Close() error {
	s.closed.Store(true)
	return nil
}
