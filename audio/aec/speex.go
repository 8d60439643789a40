//go:build cgo && !nospeexdsp

package aec

/*
#cgo pkg-config: speexdsp
#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
#include <stdlib.h>

// Configuring through small C helpers keeps Go pointers to ints (which would escape to the
// heap) out of the ctl calls.
static int aec_echo_rate(SpeexEchoState *st, int rate) {
	return speex_echo_ctl(st, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
}
static int aec_pp_int(SpeexPreprocessState *st, int req, int v) {
	return speex_preprocess_ctl(st, req, &v);
}
static int aec_pp_echo(SpeexPreprocessState *st, SpeexEchoState *echo) {
	return speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_ECHO_STATE, echo);
}
static int aec_pp_float(SpeexPreprocessState *st, int req, float v) {
	return speex_preprocess_ctl(st, req, &v);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Available reports whether the processor is compiled into this binary.
const Available = true

// engine is one rate's speexdsp echo canceller and preprocessor.
type engine struct {
	echo *C.SpeexEchoState
	pp   *C.SpeexPreprocessState
}

func newEngine(hz, n int, o Options) (*engine, error) {
	taps := int(int64(hz) * o.tail().Milliseconds() / 1000)
	e := &engine{echo: C.speex_echo_state_init(C.int(n), C.int(taps))}
	if e.echo == nil {
		return nil, fmt.Errorf("aec: speex_echo_state_init(%d, %d) failed", n, taps)
	}
	C.aec_echo_rate(e.echo, C.int(hz))
	if !o.Denoise && !o.AGC && !o.EchoSuppress {
		return e, nil
	}
	e.pp = C.speex_preprocess_state_init(C.int(n), C.int(hz))
	if e.pp == nil {
		e.free()
		return nil, fmt.Errorf("aec: speex_preprocess_state_init(%d, %d) failed", n, hz)
	}
	set := func(name string, req C.int, v int) error {
		if C.aec_pp_int(e.pp, req, C.int(v)) != 0 {
			return fmt.Errorf("aec: speexdsp preprocessor refused %s=%d (a fixed-point build has no AGC)", name, v)
		}
		return nil
	}
	errs := []error{
		set("denoise", C.SPEEX_PREPROCESS_SET_DENOISE, b2i(o.Denoise)),
		set("agc", C.SPEEX_PREPROCESS_SET_AGC, b2i(o.AGC)),
		set("dereverb", C.SPEEX_PREPROCESS_SET_DEREVERB, 0),
	}
	if o.Denoise {
		errs = append(errs, set("noise_suppress", C.SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, -cmpOr(o.NoiseSuppressDB, 15)))
	}
	if o.AGC {
		// Never boost more than 20 dB: a quiet talker comes
		// up, the room's noise between words does not (the denoiser runs first).
		level := o.AGCLevel
		if level <= 0 {
			level = 24000
		}
		C.aec_pp_float(e.pp, C.SPEEX_PREPROCESS_SET_AGC_LEVEL, C.float(level))
		errs = append(errs, set("agc_max_gain", C.SPEEX_PREPROCESS_SET_AGC_MAX_GAIN, 20))
	}
	if o.EchoSuppress {
		if C.aec_pp_echo(e.pp, e.echo) != 0 {
			errs = append(errs, fmt.Errorf("aec: speexdsp preprocessor refused the echo state"))
		}
	}
	for _, err := range errs {
		if err != nil {
			e.free()
			return nil, err
		}
	}
	return e, nil
}

// process writes to out the capture with the echo of ref removed, then preprocessed. All
// three are one frame long; cap and ref are not modified.
func (e *engine) process(capture, ref, out []int16) {
	C.speex_echo_cancellation(e.echo, (*C.spx_int16_t)(unsafe.Pointer(&capture[0])),
		(*C.spx_int16_t)(unsafe.Pointer(&ref[0])), (*C.spx_int16_t)(unsafe.Pointer(&out[0])))
	if e.pp != nil {
		C.speex_preprocess_run(e.pp, (*C.spx_int16_t)(unsafe.Pointer(&out[0])))
	}
}

func (e *engine) free() {
	if e.pp != nil {
		C.speex_preprocess_state_destroy(e.pp)
		e.pp = nil
	}
	if e.echo != nil {
		C.speex_echo_state_destroy(e.echo)
		e.echo = nil
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
