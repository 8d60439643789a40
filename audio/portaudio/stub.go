//go:build !cgo || noportaudio

package portaudio

import (
	"log/slog"

	"github.com/dialtone/dialtone/audio"
)

// Available reports whether PortAudio is compiled into this binary.
const Available = false

// errNotBuilt is what every entry point returns in builds without PortAudio.
var errNotBuilt = unavailable("PortAudio is not compiled into this build of dialtone (built without cgo or with the noportaudio tag)")

// Version is empty in builds without PortAudio.
func Version() string { return "" }

// Backend has the same API as in cgo builds so callers compile either way; New always fails.
type Backend struct{}

var _ audio.Backend = (*Backend)(nil)

// New returns an error matching ErrUnavailable and audio.ErrUnavailable.
func New(log *slog.Logger) (*Backend, error) { return nil, errNotBuilt }

// Devices fails: there is no PortAudio.
func (b *Backend) Devices() ([]audio.Device, error) { return nil, errNotBuilt }

// OpenSource fails: there is no PortAudio.
func (b *Backend) OpenSource(name string) (audio.Source, error) { return nil, errNotBuilt }

// OpenSink fails: there is no PortAudio.
func (b *Backend) OpenSink(name string) (audio.Sink, error) { return nil, errNotBuilt }

// Close does nothing.
func (b *Backend) Close() error { return nil }

// Source mirrors the cgo build's type so type assertions compile; it is never created.
type Source struct{}

func (s *Source) Read(frame []int16) error { return errNotBuilt }
func (s *Source) Close() error             { return nil }
func (s *Source) Stats() Stats             { return Stats{} }
func (s *Source) SetRate(hz int) error     { return errNotBuilt }

// Sink mirrors the cgo build's type so type assertions compile; it is never created.
type Sink struct{}

func (s *Sink) Write(frame []int16) error { return errNotBuilt }
func (s *Sink) Close() error              { return nil }
func (s *Sink) Stats() Stats              { return Stats{} }
func (s *Sink) SetRate(hz int) error      { return errNotBuilt }
