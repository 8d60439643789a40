package aec

import (
	"sync"
	"time"

	"github.com/dialtone/dialtone/audio"
)

// The wrappers show exactly the optional methods of what they wrap, because the media
// session looks for them by type assertion: audio.RateSetter (only rate-aware devices make
// rate-aware wrappers, so the session keeps converting to 8 kHz for the others), and the
// sound device's TrimQueued (sink) and Ahead (source) that let the session move its ticks.

type queueTrimmer interface{ TrimQueued(samples int) int }

type sourceAhead interface {
	Ahead(next time.Time) time.Duration
}

func wrapSource(in audio.Source, c *Canceller) audio.Source {
	s := &source{in: in, c: c}
	if sl, ok := in.(slipper); ok {
		c.srcSlip.get = sl.Slipped
	}
	_, rate := in.(audio.RateSetter)
	_, ahead := in.(sourceAhead)
	switch {
	case rate && ahead:
		return &rateAheadSource{s}
	case rate:
		return &rateSource{s}
	case ahead:
		return &aheadSource{s}
	}
	return s
}

func wrapSink(out audio.Sink, c *Canceller) audio.Sink {
	k := &sink{out: out, c: c}
	if sl, ok := out.(slipper); ok {
		c.sinkSlip.get = sl.Slipped
	}
	_, rate := out.(audio.RateSetter)
	_, trim := out.(queueTrimmer)
	switch {
	case rate && trim:
		return &rateTrimSink{k}
	case rate:
		return &rateSink{k}
	case trim:
		return &trimSink{k}
	}
	return k
}

type source struct {
	in   audio.Source
	c    *Canceller
	once sync.Once
}

func (s *source) Read(frame []int16) error {
	if err := s.in.Read(frame); err != nil {
		return err
	}
	s.c.captured(frame)
	return nil
}

func (s *source) Close() error {
	err := s.in.Close()
	s.once.Do(s.c.release)
	return err
}

func (s *source) setRate(hz int) error {
	if err := checkRate(hz); err != nil {
		return err
	}
	if err := s.in.(audio.RateSetter).SetRate(hz); err != nil {
		return err
	}
	return s.c.setRate(true, hz)
}

func (s *source) ahead(next time.Time) time.Duration { return s.in.(sourceAhead).Ahead(next) }

type sink struct {
	out  audio.Sink
	c    *Canceller
	once sync.Once
}

func (k *sink) Write(frame []int16) error {
	// Write first: the device's slips of this Write (slip.go) then go with this frame.
	err := k.out.Write(frame)
	if err == nil {
		k.c.played(frame)
	}
	return err
}

func (k *sink) Close() error {
	err := k.out.Close()
	k.once.Do(k.c.release)
	return err
}

func (k *sink) setRate(hz int) error {
	if err := checkRate(hz); err != nil {
		return err
	}
	if err := k.out.(audio.RateSetter).SetRate(hz); err != nil {
		return err
	}
	return k.c.setRate(false, hz)
}

// trim drops the newest queued audio in the device and as much of the reference: it will
// never be played, and leaving it would shift the reference against the echo.
func (k *sink) trim(samples int) int {
	got := k.out.(queueTrimmer).TrimQueued(samples)
	k.c.unplayed(got)
	return got
}

type rateSource struct{ *source }

func (s *rateSource) SetRate(hz int) error { return s.setRate(hz) }

type aheadSource struct{ *source }

func (s *aheadSource) Ahead(next time.Time) time.Duration { return s.ahead(next) }

type rateAheadSource struct{ *source }

func (s *rateAheadSource) SetRate(hz int) error               { return s.setRate(hz) }
func (s *rateAheadSource) Ahead(next time.Time) time.Duration { return s.ahead(next) }

type rateSink struct{ *sink }

func (k *rateSink) SetRate(hz int) error { return k.setRate(hz) }

type trimSink struct{ *sink }

func (k *trimSink) TrimQueued(samples int) int { return k.trim(samples) }

type rateTrimSink struct{ *sink }

func (k *rateTrimSink) SetRate(hz int) error       { return k.setRate(hz) }
func (k *rateTrimSink) TrimQueued(samples int) int { return k.trim(samples) }

// Wrapped reports whether v is a Source or Sink returned by Wrap.
func Wrapped(v any) bool {
	switch v.(type) {
	case *source, *rateSource, *aheadSource, *rateAheadSource, *sink, *rateSink, *trimSink, *rateTrimSink:
		return true
	}
	return false
}
