package main

import (
	"errors"
	"sync"

	"github.com/dialtone/dialtone/audio/aec"
	"github.com/dialtone/dialtone/phone/config"
)

// wantEchoCancellation says whether a call's audio gets echo cancellation (with noise
// suppression and automatic gain): only when both ends are sound devices, since the echo
// is the speaker's sound reaching the microphone. A --play file has no echo to remove, a
// --record file plays nothing that could echo, the null backend neither; --no-aec and
// echo_cancellation = false under [audio] turn it off.
func (e *env) wantEchoCancellation(f audioFlags, recordPath, backend string, cfg config.Audio) bool {
	if f.Play != "" || recordPath != "" || backend == "null" {
		return false
	}
	if e.cli != nil && e.cli.NoAEC {
		return false
	}
	return cfg.EchoCancellation == nil || *cfg.EchoCancellation
}

// aecMissing is logged once per process: a build without speexdsp still makes calls.
var aecMissing sync.Once

// cancelEcho puts the canceller between ca's device sink and source. Without it in this
// build the call goes on with the devices as they are, after one warning.
func (e *env) cancelEcho(ca *callAudio) {
	src, snk, c, err := aec.Wrap(ca.Source, ca.Sink, aec.Defaults())
	if err != nil {
		if errors.Is(err, aec.ErrNotBuilt) {
			aecMissing.Do(func() {
				e.log.Warn("sound devices without echo cancellation: the far end may hear itself on a speaker; use a headset, or a dialtone built with cgo and libspeexdsp", "err", err)
			})
			return
		}
		e.log.Warn("sound devices without echo cancellation", "err", err)
		return
	}
	ca.Source, ca.Sink = src, snk
	// Freed after the devices close (closers run last to first): a Read or Write still under
	// way passes unprocessed once it is closed, never into freed speexdsp state.
	ca.closers = append([]func() error{func() error {
		st := c.Stats()
		e.log.Debug("echo cancellation", "rate", st.Rate, "frames", st.Frames, "unprocessed", st.Passed,
			"silent_far_end", st.Silent, "reference_repeated", st.Duplicated, "resyncs", st.Resyncs, "slips", st.Slips, "drift_ppm", st.DriftPPM)
		return c.Close()
	}}, ca.closers...)
	e.log.Debug("echo cancellation on", "engine", "speexdsp")
}
