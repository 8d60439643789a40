//go:build cgo && !nospandsp

// Package spandsp wraps libspandsp's G.722 codec (Steve Underwood's, the one baresip's g722
// module and FreeSWITCH use) as a test peer for dialtone's pure-Go G.722: the codec tests check
// bit-exactness against it and the benchmarks run it beside ours. Only tests import it; it
// needs cgo and libspandsp-dev, and builds to a stub that reports itself unavailable with
// -tags nospandsp or CGO_ENABLED=0.
package spandsp

/*
#cgo LDFLAGS: -lspandsp
#include <stdint.h>
#include <spandsp/telephony.h>
#include <spandsp/g722.h>
*/
import "C"

import (
	"errors"
	"unsafe"
)

// Available says whether this build has the peer.
const Available = true

// Encoder is a spandsp G.722 encoder at 64 kbit/s, one code per octet, 16 kHz input.
type Encoder struct{ s *C.g722_encode_state_t }

// Decoder is a spandsp G.722 decoder at 64 kbit/s, 16 kHz output.
type Decoder struct{ s *C.g722_decode_state_t }

// NewEncoder returns an encoder in the reset state; Close frees it.
func NewEncoder() (*Encoder, error) {
	s := C.g722_encode_init(nil, 64000, 0)
	if s == nil {
		return nil, errors.New("spandsp: g722_encode_init failed")
	}
	return &Encoder{s}, nil
}

// Encode encodes pcm into dst (len(pcm)/2 octets) and returns the octets written.
func (e *Encoder) Encode(dst []byte, pcm []int16) int {
	if len(pcm) == 0 || len(dst) < len(pcm)/2 {
		return 0
	}
	return int(C.g722_encode(e.s, (*C.uint8_t)(unsafe.Pointer(&dst[0])),
		(*C.int16_t)(unsafe.Pointer(&pcm[0])), C.int(len(pcm))))
}

// Close frees the encoder.
func (e *Encoder) Close() { C.g722_encode_free(e.s) }

// NewDecoder returns a decoder in the reset state; Close frees it.
func NewDecoder() (*Decoder, error) {
	s := C.g722_decode_init(nil, 64000, 0)
	if s == nil {
		return nil, errors.New("spandsp: g722_decode_init failed")
	}
	return &Decoder{s}, nil
}

// Decode decodes payload into dst (two samples per octet) and returns the samples written.
func (d *Decoder) Decode(dst []int16, payload []byte) int {
	if len(payload) == 0 || len(dst) < 2*len(payload) {
		return 0
	}
	return int(C.g722_decode(d.s, (*C.int16_t)(unsafe.Pointer(&dst[0])),
		(*C.uint8_t)(unsafe.Pointer(&payload[0])), C.int(len(payload))))
}

// Close frees the decoder.
func (d *Decoder) Close() { C.g722_decode_free(d.s) }
