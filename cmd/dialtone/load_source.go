package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/audio/wav"
)

// loadMaxSeconds bounds the audio `load` keeps in memory: every call plays the same samples,
// decoded (and resampled to 8 kHz) once, so a thousand calls cost one copy, not a thousand
// open files and resamplers. Ten minutes is 9.6 MB; a longer file loops over its start.
const loadMaxSeconds = 600

// loadAudio is --play decoded once: 8 kHz mono frames shared read-only by every call.
type loadAudio struct {
	samples []int16 // whole frames only (the last one padded with silence)
}

// readLoadAudio decodes path into memory.
func readLoadAudio(path string) (*loadAudio, error) {
	src, err := wav.OpenSource(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	frame := make([]int16, audio.FrameSamples)
	var samples []int16
	for len(samples) < loadMaxSeconds*audio.SampleRate {
		err := src.Read(frame)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		samples = append(samples, frame...)
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("%s holds no audio", path)
	}
	return &loadAudio{samples: samples}, nil
}

// source returns a new reader of the shared samples for one call: looping, or once and then
// io.EOF (the media session sends silence after a source ends).
func (a *loadAudio) source(loop bool) audio.Source {
	return &loadSource{a: a, loop: loop}
}

// loadSource is one call's position in the shared samples. The pacer reads it from one
// goroutine at a time; it allocates nothing per frame.
type loadSource struct {
	a    *loadAudio
	pos  int
	loop bool
	done bool
}

func (s *loadSource) Read(frame []int16) error {
	if s.done {
		return io.EOF
	}
	n := 0
	for n < len(frame) {
		if s.pos == len(s.a.samples) {
			if !s.loop {
				if n == 0 {
					s.done = true
					return io.EOF
				}
				clear(frame[n:])
				return nil
			}
			s.pos = 0
		}
		c := copy(frame[n:], s.a.samples[s.pos:])
		s.pos += c
		n += c
	}
	return nil
}

func (s *loadSource) Close() error { return nil }
