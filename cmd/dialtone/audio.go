package main

import (
	"cmp"
	"errors"
	"fmt"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/audio/null"
	"github.com/dialtone/dialtone/audio/portaudio"
	"github.com/dialtone/dialtone/audio/wav"
	"github.com/dialtone/dialtone/phone"
)

// audioFlags choose a call's audio. Sound devices by default; a direction given by --play or
// --record opens no device for that direction.
type audioFlags struct {
	Play         string `help:"Send this WAV file (any rate, mono or stereo) once the call is answered, instead of the microphone." placeholder:"FILE" type:"path"`
	Record       string `help:"Write what the far end sends to this WAV file (mono 16-bit at the call's rate: 8 kHz G.711, 16 kHz G.722, 48 kHz Opus), instead of the speaker." placeholder:"FILE" type:"path"`
	Audio        string `help:"Audio backend for directions not given by --play/--record: device (PortAudio) or null (silence in, discard out)." enum:"device,null," default:"" placeholder:"device|null"`
	InputDevice  string `help:"Microphone: a device name, part of one, or its index (see dialtone devices)." placeholder:"DEVICE"`
	OutputDevice string `help:"Speaker: a device name, part of one, or its index (see dialtone devices)." placeholder:"DEVICE"`
}

// callAudio holds what one call's audio opened, to close it afterwards.
type callAudio struct {
	phone.CallAudio
	closers []func() error
}

func (c *callAudio) Close() error {
	var errs []error
	for i := len(c.closers) - 1; i >= 0; i-- {
		errs = append(errs, c.closers[i]())
	}
	return errors.Join(errs...)
}

// audioCloseErr reports on stderr why a call's audio did not close cleanly: a recording that a
// full disk cut short must not pass unnoticed behind exit 0.
func (e *env) audioCloseErr(err error) {
	fmt.Fprintf(e.stderr, "dialtone: call audio: %v\n", err)
}

// closeAudio closes a call's audio and reports why if that failed (audioCloseErr).
func (e *env) closeAudio(ca *callAudio) {
	if err := ca.Close(); err != nil {
		e.audioCloseErr(err)
	}
}

// openAudio opens one call's source and sink. It is the only place that picks an audio
// backend. The config file's [audio] section gives defaults that flags override.
func (e *env) openAudio(f audioFlags, recordPath string) (*callAudio, error) {
	cfgFile, err := e.loadConfig()
	if err != nil {
		return nil, err
	}
	backendName := cfgFile.Audio.Backend
	if f.Audio != "" {
		backendName = f.Audio
	}
	in, out := cfgFile.Audio.InputDevice, cfgFile.Audio.OutputDevice
	if f.InputDevice != "" {
		in = f.InputDevice
	}
	if f.OutputDevice != "" {
		out = f.OutputDevice
	}
	ca := &callAudio{}
	fail := func(err error) (*callAudio, error) {
		ca.Close()
		return nil, err
	}
	var backend audio.Backend
	needDevice := f.Play == "" || recordPath == ""
	if needDevice {
		switch backendName {
		case "null":
			backend = null.New()
		default:
			pa, err := portaudio.New(e.log)
			if err != nil {
				if errors.Is(err, audio.ErrUnavailable) {
					hint := cmp.Or(e.noDeviceHint, "use --audio null or --play/--record files")
					return fail(&exitError{code: exitUsage, err: fmt.Errorf("sound devices: %w; %s", err, hint)})
				}
				return fail(&exitError{code: exitUsage, err: fmt.Errorf("sound devices: %w", err)})
			}
			backend = pa
		}
		ca.closers = append(ca.closers, backend.Close)
	}
	if f.Play != "" {
		src, err := wav.OpenSource(f.Play)
		if err != nil {
			return fail(&exitError{code: exitUsage, err: fmt.Errorf("--play: %w", err)})
		}
		ca.Source = src
		ca.closers = append(ca.closers, src.Close)
	} else {
		src, err := backend.OpenSource(in)
		if err != nil {
			return fail(&exitError{code: exitUsage, err: fmt.Errorf("microphone: %w", err)})
		}
		ca.Source = src
		ca.closers = append(ca.closers, src.Close)
	}
	if recordPath != "" {
		sink, err := wav.Create(recordPath)
		if err != nil {
			return fail(&exitError{code: exitUsage, err: fmt.Errorf("--record: %w", err)})
		}
		ca.Sink = sink
		ca.closers = append(ca.closers, sink.Close)
	} else {
		sink, err := backend.OpenSink(out)
		if err != nil {
			return fail(&exitError{code: exitUsage, err: fmt.Errorf("speaker: %w", err)})
		}
		ca.Sink = sink
		ca.closers = append(ca.closers, sink.Close)
	}
	if e.wantEchoCancellation(f, recordPath, backendName, cfgFile.Audio) {
		e.cancelEcho(ca)
	}
	return ca, nil
}
