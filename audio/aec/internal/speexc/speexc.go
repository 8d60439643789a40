//go:build cgo && !nospeexdsp

// Package speexc is the benchmarks' peer: the same speexdsp processing audio/aec does per
// frame (echo cancellation, then the preprocessor with denoise, AGC and residual-echo
// suppression), driven by a loop in C, so the difference to audio/aec's benchmark is what
// the Go binding (cgo calls, the reference queue, the lock) costs. Tests only.
package speexc

/*
#cgo pkg-config: speexdsp
#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
#include <stdlib.h>
#include <stdint.h>

typedef struct {
	SpeexEchoState *echo;
	SpeexPreprocessState *pp;
	int n;
	spx_int16_t *play, *cap, *out;
	uint32_t seed;
} peer;

static peer *peer_new(int rate, int tail_ms) {
	peer *p = calloc(1, sizeof *p);
	int n = rate / 50, v;
	float level = 24000;
	p->n = n;
	p->echo = speex_echo_state_init(n, rate * tail_ms / 1000);
	speex_echo_ctl(p->echo, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
	p->pp = speex_preprocess_state_init(n, rate);
	v = 1; speex_preprocess_ctl(p->pp, SPEEX_PREPROCESS_SET_DENOISE, &v);
	v = 1; speex_preprocess_ctl(p->pp, SPEEX_PREPROCESS_SET_AGC, &v);
	v = -15; speex_preprocess_ctl(p->pp, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &v);
	speex_preprocess_ctl(p->pp, SPEEX_PREPROCESS_SET_AGC_LEVEL, &level);
	v = 20; speex_preprocess_ctl(p->pp, SPEEX_PREPROCESS_SET_AGC_MAX_GAIN, &v);
	speex_preprocess_ctl(p->pp, SPEEX_PREPROCESS_SET_ECHO_STATE, p->echo);
	p->play = calloc(n, sizeof *p->play);
	p->cap = calloc(n, sizeof *p->cap);
	p->out = calloc(n, sizeof *p->out);
	p->seed = 1;
	return p;
}

static void peer_fill(peer *p) {
	for (int i = 0; i < p->n; i++) {
		p->seed = p->seed * 1664525u + 1013904223u;
		spx_int16_t x = (spx_int16_t)((int32_t)(p->seed >> 16) - 32768) / 8;
		p->cap[i] = p->play[i] / 2 + x / 8;
		p->play[i] = x;
	}
}

static void peer_run(peer *p, int frames) {
	for (int f = 0; f < frames; f++) {
		peer_fill(p);
		speex_echo_cancellation(p->echo, p->cap, p->play, p->out);
		speex_preprocess_run(p->pp, p->out);
	}
}

static void peer_free(peer *p) {
	speex_preprocess_state_destroy(p->pp);
	speex_echo_state_destroy(p->echo);
	free(p->play); free(p->cap); free(p->out); free(p);
}
*/
import "C"

// Peer is one rate's speexdsp state driven from C.
type Peer struct{ p *C.peer }

// New makes a peer at rate with a tail of tailMs milliseconds, set up as audio/aec.Defaults.
func New(rate, tailMs int) *Peer { return &Peer{C.peer_new(C.int(rate), C.int(tailMs))} }

// Run processes frames 20 ms frames of generated audio in one C loop.
func (p *Peer) Run(frames int) { C.peer_run(p.p, C.int(frames)) }

// Close frees the state.
func (p *Peer) Close() { C.peer_free(p.p) }
