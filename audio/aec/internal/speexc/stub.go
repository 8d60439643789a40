//go:build !cgo || nospeexdsp

// Package speexc is the benchmarks' C peer; without cgo or speexdsp it does nothing (the
// benchmarks skip).
package speexc

// Peer does nothing in this build.
type Peer struct{}

// New returns a Peer that does nothing.
func New(rate, tailMs int) *Peer { return &Peer{} }

// Run does nothing.
func (p *Peer) Run(frames int) {}

// Close does nothing.
func (p *Peer) Close() {}
