//go:build cgo && !noportaudio

package portaudio

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	pa "github.com/gordonklaus/portaudio"

	"github.com/dialtone/dialtone/audio"
)

const (
	ringMs    = 200 // ring capacity: the most latency either direction can build up
	prefillMs = 40  // playback restarts after an underrun once this much is queued
)

// stream is what Source and Sink share: one PortAudio callback stream and its ring.
//
// The callback API is used rather than blocking Read/Write on a goroutine because stopping a
// blocking stream means calling Pa_StopStream while another thread sits in Pa_ReadStream,
// which PortAudio does not support on every host API; with callbacks, Pa_StopStream is the
// documented way to end them, and no goroutine is needed at all.
type stream struct {
	log      *slog.Logger
	dev      *pa.DeviceInfo
	pa       *pa.Stream
	rate     float64    // the rate the device stream actually runs at
	channels int        // interleaved channels in the device buffers
	rs       *resampler // device rate ↔ 8 kHz before SetRate (capture: ↔ capRate); nil when equal
	ring     *ring
	mono     []int16 // callback-only scratch (down-/up-mix), reused: no allocation per callback
	conv     []int16 // capture callback only: resampler output, reused likewise
	// capMu guards, for a capture stream, rs, ring and capRate against the callback while
	// Source.SetRate swaps them (rate.go); the callback holds it for its push, briefly.
	capMu   sync.Mutex
	capRate int // the rate of the capture ring's samples: 8000 until Source.SetRate

	live    liveness // the callbacks' heartbeat: has the device gone away? (liveness.go)
	lostErr error    // what Read/Write return once it has

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	stuck     bool // close gave up on a PortAudio call that did not return (close.go)
	onClose   func()
}

// openStream opens and starts dev in one direction. It asks for 48 kHz mono first (wideRate),
// then the device's default rate, then 8 kHz, each in mono and then in stereo, which is what
// ALSA hw: devices insist on. Until SetRate, Read and Write move 8 kHz frames through the
// resampler.
func openStream(log *slog.Logger, dev *pa.DeviceInfo, input bool) (*stream, error) {
	s := &stream{log: log, dev: dev}
	role := "speaker"
	if input {
		role = "microphone"
	}
	s.lostErr = fmt.Errorf("portaudio: the %s %q stopped (unplugged, or the sound server stopped or hung): %w", role, dev.Name, audio.ErrDeviceLost)
	rates, chans := candidates(dev, input)
	var cb any = s.playback
	if input {
		cb = s.capture
	}
	var errs []error
	err := quiet(log, "open "+dev.Name, func() error {
		for _, rate := range rates {
			for _, ch := range chans {
				p := pa.StreamParameters{SampleRate: rate, FramesPerBuffer: int(rate/50 + 0.5)} // 20 ms
				dp := pa.StreamDeviceParameters{Device: dev, Channels: ch}
				if input {
					dp.Latency = dev.DefaultLowInputLatency
					p.Input = dp
				} else {
					dp.Latency = dev.DefaultLowOutputLatency
					p.Output = dp
				}
				st, err := pa.OpenStream(p, cb)
				if err != nil {
					errs = append(errs, fmt.Errorf("%g Hz × %d: %w", rate, ch, err))
					continue
				}
				s.pa, s.rate, s.channels = st, rate, ch
				if info := st.Info(); info != nil && info.SampleRate > 0 {
					s.rate = info.SampleRate
				}
				return nil
			}
		}
		return errors.Join(errs...)
	})
	if err != nil {
		return nil, fmt.Errorf("portaudio: open %q: %w", dev.Name, err)
	}
	s.prepare(input) // before Start: the callback uses the ring and resampler at once
	if err := quiet(log, "start "+dev.Name, s.pa.Start); err != nil {
		quiet(log, "close "+dev.Name, s.pa.Close)
		return nil, fmt.Errorf("portaudio: start %q: %w", dev.Name, err)
	}
	log.Debug("portaudio stream open", "device", dev.Name, "input", input, "rate", s.rate,
		"channels", s.channels, "resampling", s.rs != nil, "latency", latencyOf(s.pa.Info(), input))
	return s, nil
}

// prepare makes the ring and resampler for a stream whose rate and channels are known. Until
// SetRate, Read and Write move 8 kHz frames.
func (s *stream) prepare(input bool) {
	ringRate := float64(audio.SampleRate) // capture rings hold the Source's rate
	if s.rate != audio.SampleRate {
		if input {
			s.rs = newResampler(s.rate, audio.SampleRate)
		} else {
			s.rs = newResampler(audio.SampleRate, s.rate)
			ringRate = s.rate // playback rings hold device-rate samples: the callback's size
		}
	}
	s.ring = newRing(int(ringRate*ringMs/1000), int(ringRate*prefillMs/1000))
	s.ring.setRate(int(ringRate), !input)
	s.capRate = audio.SampleRate
}

func latencyOf(info *pa.StreamInfo, input bool) any {
	switch {
	case info == nil:
		return nil
	case input:
		return info.InputLatency
	}
	return info.OutputLatency
}

// wideRate is the rate a device is opened at when it takes it: every call rate (8, 16 and
// 48 kHz) divides it, so a 48 kHz (Opus) call needs no conversion at all and the others
// convert by whole ratios with the polyphase tables (poly.go). Opening at 8 kHz, as before,
// let PulseAudio resample for free but cut every call to the 4 kHz band at the device.
const wideRate = 48000

// openMode chooses what openStream asks a device for; tests set it to exercise each path on a
// PulseAudio device that would accept anything.
type openMode int

const (
	openWide       openMode = iota // 48 kHz mono, else the device's rate, else 8 kHz; mono, else stereo
	openDeviceRate                 // as if 48 kHz mono were refused: the device's rate, in stereo where it has two channels
	openNarrow                     // 8 kHz mono only: how devices were opened before they carried wideband
)

var testOpenMode = openWide

// candidates lists the rates and channel counts to try, preferred first.
func candidates(dev *pa.DeviceInfo, input bool) (rates []float64, chans []int) {
	maxCh := dev.MaxOutputChannels
	if input {
		maxCh = dev.MaxInputChannels
	}
	def := dev.DefaultSampleRate
	switch testOpenMode {
	case openNarrow:
		return []float64{audio.SampleRate}, []int{1}
	case openDeviceRate:
		if maxCh >= 2 {
			return []float64{max(def, audio.SampleRate)}, []int{2}
		}
		return []float64{max(def, audio.SampleRate)}, []int{1}
	}
	rates = append(rates, wideRate)
	if def > audio.SampleRate && def != wideRate {
		rates = append(rates, def) // ALSA hw: devices take only their own rates
	}
	rates = append(rates, audio.SampleRate) // narrowband beats no audio at all
	chans = append(chans, 1)
	if maxCh >= 2 {
		chans = append(chans, 2)
	}
	return rates, chans
}

// capture is the input callback (PortAudio's thread): down-mix, convert to the Source's rate
// (8 kHz until SetRate), queue.
func (s *stream) capture(in []int16, _ pa.StreamCallbackTimeInfo, flags pa.StreamCallbackFlags) {
	s.live.beat()
	mono := in
	if s.channels > 1 {
		n := len(in) / s.channels
		s.mono = growTo(s.mono, n)
		for i := range n {
			var sum int
			for c := range s.channels {
				sum += int(in[i*s.channels+c])
			}
			s.mono[i] = int16(sum / s.channels)
		}
		mono = s.mono
	}
	s.capMu.Lock()
	defer s.capMu.Unlock()
	if flags&pa.InputOverflow != 0 {
		s.ring.hostXrun() // under capMu: SetRate replaces the ring
	}
	if s.rs != nil {
		s.conv = s.rs.process(mono, s.conv[:0])
		mono = s.conv
	}
	s.ring.push(mono)
}

// playback is the output callback (PortAudio's thread): take device-rate mono from the ring
// (silence when it is dry) and copy it to every channel.
func (s *stream) playback(out []int16, _ pa.StreamCallbackTimeInfo, flags pa.StreamCallbackFlags) {
	s.live.beat()
	if flags&pa.OutputUnderflow != 0 {
		s.ring.hostXrun()
	}
	if s.channels == 1 {
		s.ring.pull(out)
		return
	}
	n := len(out) / s.channels
	s.mono = growTo(s.mono, n)
	s.ring.pull(s.mono)
	for i, v := range s.mono {
		for c := range s.channels {
			out[i*s.channels+c] = v
		}
	}
}

func growTo(b []int16, n int) []int16 {
	if cap(b) < n {
		return make([]int16, n)
	}
	return b[:n]
}

// close stops the stream and closes it. Pa_StopStream (not Abort) is used because on ALSA
// Abort cancels the callback thread with pthread_cancel, which is not something to do to a
// thread that may be running Go code; Stop lets the current callback return and joins the
// thread. For playback it also lets the device's last buffer (tens of ms) play out.
//
// Stop waits for the audio thread, and a thread stuck on a sound server that hangs never
// comes back: the wait is bounded by closeTimeout, after which the stream is abandoned
// (close.go) so that the call, and the program, can end.
func (s *stream) close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		limit := closeTimeout
		if s.live.isLost() {
			limit = lostCloseTimeout // its thread has quit (at once) or hangs (for ever)
		}
		s.closeErr = quietBounded(s.log, "close "+s.dev.Name, limit, func() error {
			err := s.pa.Stop()
			if errors.Is(err, pa.StreamIsStopped) {
				err = nil
			}
			return errors.Join(err, s.pa.Close())
		})
		s.stuck = errors.Is(s.closeErr, errStuck)
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("portaudio: close %q: %w", s.dev.Name, s.closeErr)
		}
		if s.onClose != nil {
			s.onClose()
		}
	})
	return s.closeErr
}

// alive runs the heartbeat check of a Read or Write: nil while the device works, lostErr
// (matching audio.ErrDeviceLost) from the moment it is found gone. It is logged once, here;
// telling the user is the caller's business.
func (s *stream) alive() error {
	if s.live.check(time.Now) {
		s.log.Warn("sound device lost: its audio stopped for "+stallTime.String(), "device", s.dev.Name, "err", s.lostErr)
	}
	if s.live.isLost() {
		return s.lostErr
	}
	return nil
}

// Source is a capture stream. Read returns the oldest buffered 20 ms, or silence when less
// than a frame has been captured (counted in Stats().Underruns). Once the device has gone
// away, Read returns silence and an error matching audio.ErrDeviceLost.
type Source struct{ s *stream }

// Read fills frame without waiting for the device.
func (src *Source) Read(frame []int16) error {
	if src.s.closed.Load() {
		return errClosed
	}
	if err := src.s.alive(); err != nil {
		clear(frame)
		return err
	}
	if !src.s.captureRing().take(frame) {
		clear(frame)
	}
	return nil
}

// Close stops capture. It is idempotent and safe to call concurrently with Read.
func (src *Source) Close() error { return src.s.close() }

// Stats reports overruns (capture faster than Read: oldest audio dropped) and underruns.
func (src *Source) Stats() Stats { return src.s.captureRing().snapshot() }

// Sink is a playback stream. Write queues a frame without waiting for the device.
type Sink struct {
	s   *stream
	mu  sync.Mutex // Write's resampler state and buffer, and the rate (rate.go)
	buf []int16
	// rate is the rate of the frames Write takes once SetRate was called (0: 8 kHz, converted
	// by the stream's rs); rs converts it to the device's, nil when they are equal.
	rate int
	rs   *resampler
}

// Write queues frame for playback (resampled to the device rate if needed). When the queue
// holds more than 200 ms the oldest audio is dropped (counted in Stats().Overruns). Once the
// device has gone away, Write discards frame and returns an error matching audio.ErrDeviceLost.
func (snk *Sink) Write(frame []int16) error {
	if snk.s.closed.Load() {
		return errClosed
	}
	if err := snk.s.alive(); err != nil {
		return err
	}
	snk.mu.Lock()
	defer snk.mu.Unlock()
	rs := snk.s.rs
	if snk.rate != 0 {
		rs = snk.rs
	}
	if rs == nil {
		snk.s.ring.push(frame)
		return nil
	}
	snk.buf = rs.process(frame, snk.buf[:0])
	snk.s.ring.push(snk.buf)
	return nil
}

// Close stops playback. It is idempotent and safe to call concurrently with Write.
func (snk *Sink) Close() error { return snk.s.close() }

// Stats reports overruns (Write faster than the device: oldest audio dropped) and underruns
// (the device found the queue empty).
func (snk *Sink) Stats() Stats { return snk.s.ring.snapshot() }
