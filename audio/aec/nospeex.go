//go:build !cgo || nospeexdsp

package aec

// Available reports whether the processor is compiled into this binary.
const Available = false

// engine has no processor in this build; Wrap fails with ErrNotBuilt before making one.
type engine struct{}

func newEngine(hz, n int, o Options) (*engine, error) { return nil, ErrNotBuilt }

func (e *engine) process(capture, ref, out []int16) { copy(out, capture) }

func (e *engine) free() {}
