//go:build cgo && !noportaudio

package portaudio

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	pa "github.com/gordonklaus/portaudio"

	"github.com/dialtone/dialtone/audio"
)

// Available reports whether PortAudio is compiled into this binary.
const Available = true

// Version is the PortAudio library version linked into this binary.
func Version() string { return pa.VersionText() }

var errClosed = errors.New("portaudio: closed")

// Backend is an initialised PortAudio. Its device list is the one PortAudio saw at New
// (PortAudio enumerates once); create a new Backend to see devices plugged in later.
type Backend struct {
	log    *slog.Logger
	mu     sync.Mutex
	closed bool
	open   map[*stream]struct{} // closed by Backend.Close before PortAudio is terminated
	stuck  bool                 // a stream's close was abandoned (close.go): do not terminate
}

var _ audio.Backend = (*Backend)(nil)

// New initialises PortAudio. Whatever ALSA and JACK print while PortAudio probes them, and
// later while streams run, goes to log at debug level instead of the terminal (see quiet and
// silenceLibraries). When the system has no sound device at all, the error matches
// ErrUnavailable and audio.ErrUnavailable and tells the user what to use instead.
func New(log *slog.Logger) (*Backend, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	silenceLibraries(log)
	if err := quiet(log, "initialise", pa.Initialize); err != nil {
		releaseLibraries(log)
		return nil, fmt.Errorf("portaudio: initialise: %w", err)
	}
	devs, err := pa.Devices()
	if err != nil {
		err = fmt.Errorf("portaudio: list devices: %w", err)
	} else if len(devs) == 0 {
		err = unavailable("no sound device found")
	}
	if err != nil {
		quiet(log, "terminate", pa.Terminate)
		releaseLibraries(log)
		return nil, err
	}
	log.Debug("portaudio initialised", "version", pa.VersionText(), "devices", len(devs))
	return &Backend{log: log, open: map[*stream]struct{}{}}, nil
}

// Devices lists every device PortAudio found, in PortAudio's index order.
func (b *Backend) Devices() ([]audio.Device, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errClosed
	}
	devs, err := pa.Devices()
	if err != nil {
		return nil, fmt.Errorf("portaudio: list devices: %w", err)
	}
	defIn, defOut := defaults()
	out := make([]audio.Device, 0, len(devs))
	for _, d := range devs {
		ad := audio.Device{
			Index:         d.Index,
			Name:          d.Name,
			MaxInputs:     d.MaxInputChannels,
			MaxOutputs:    d.MaxOutputChannels,
			DefaultInput:  d == defIn,
			DefaultOutput: d == defOut,
			DefaultRate:   d.DefaultSampleRate,
		}
		if d.HostApi != nil {
			ad.HostAPI = d.HostApi.Name
		}
		out = append(out, ad)
	}
	return out, nil
}

// defaults returns PortAudio's default input and output devices, nil where there is none.
func defaults() (in, out *pa.DeviceInfo) {
	in, _ = pa.DefaultInputDevice()
	out, _ = pa.DefaultOutputDevice()
	return in, out
}

// OpenSource opens a capture stream. name is an exact device name, a device index, or a
// case-insensitive part of one name; "" is the default input device.
func (b *Backend) OpenSource(name string) (audio.Source, error) {
	s, err := b.openStream(name, true)
	if err != nil {
		return nil, err
	}
	return &Source{s}, nil
}

// OpenSink opens a playback stream; name is chosen as for OpenSource.
func (b *Backend) OpenSink(name string) (audio.Sink, error) {
	s, err := b.openStream(name, false)
	if err != nil {
		return nil, err
	}
	return &Sink{s: s}, nil
}

func (b *Backend) openStream(name string, input bool) (*stream, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errClosed
	}
	devs, err := pa.Devices()
	if err != nil {
		return nil, fmt.Errorf("portaudio: list devices: %w", err)
	}
	defIn, defOut := defaults()
	def := defOut
	if input {
		def = defIn
	}
	dev, err := pick(devs, def, name, input)
	if err != nil {
		return nil, err
	}
	s, err := openStream(b.log, dev, input)
	if err != nil {
		return nil, err
	}
	b.open[s] = struct{}{}
	s.onClose = func() {
		b.mu.Lock()
		delete(b.open, s)
		b.stuck = b.stuck || s.stuck
		b.mu.Unlock()
	}
	return s, nil
}

// Close closes every stream still open and terminates PortAudio. It is idempotent.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	open := make([]*stream, 0, len(b.open))
	for s := range b.open {
		open = append(open, s)
	}
	b.mu.Unlock() // stream.close calls onClose, which takes b.mu
	var errs []error
	for _, s := range open {
		errs = append(errs, s.close())
	}
	b.mu.Lock()
	stuck := b.stuck
	b.mu.Unlock()
	if stuck {
		// Pa_Terminate would close the abandoned stream again and wait for the same stuck
		// thread. PortAudio stays initialised; the process ends soon enough, or a later
		// Backend initialises it again (Pa_Initialize counts).
		b.log.Warn("portaudio not terminated: a stream is stuck in the sound library")
		releaseLibraries(b.log)
		return errors.Join(errs...)
	}
	if err := quiet(b.log, "terminate", pa.Terminate); err != nil {
		errs = append(errs, fmt.Errorf("portaudio: terminate: %w", err))
	}
	releaseLibraries(b.log)
	return errors.Join(errs...)
}
