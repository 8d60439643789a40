//go:build !cgo || nospandsp

package spandsp

import "errors"

// Available says whether this build has the peer: not without cgo, or with -tags nospandsp.
const Available = false

var errUnavailable = errors.New("spandsp: not built in (needs cgo and libspandsp-dev; built with nospandsp or CGO_ENABLED=0)")

// Encoder is unavailable in this build.
type Encoder struct{}

// Decoder is unavailable in this build.
type Decoder struct{}

// NewEncoder reports that the peer is not built in.
func NewEncoder() (*Encoder, error) { return nil, errUnavailable }

// NewDecoder reports that the peer is not built in.
func NewDecoder() (*Decoder, error) { return nil, errUnavailable }

func (*Encoder) Encode(dst []byte, pcm []int16) int     { return 0 }
func (*Encoder) Close()                                 {}
func (*Decoder) Decode(dst []int16, payload []byte) int { return 0 }
func (*Decoder) Close()                                 {}
