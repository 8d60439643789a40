//go:build cgo && !noopus && !unix

package codec

import "testing"

// cpuClock has no portable source here; the benchmarks then report wall time only.
func cpuClock() (float64, bool) { return 0, false }

func reportCPU(*testing.B, float64) {}
