//go:build cgo && !noopus && unix

package codec

import (
	"syscall"
	"testing"
)

// cpuClock returns the process's user+system CPU time in ns. On this shared machine wall
// time per op swings several-fold with other load; CPU time moves far less.
func cpuClock() (float64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return float64(ru.Utime.Nano() + ru.Stime.Nano()), true
}

// reportCPU adds cpu-ns/op, the CPU time per op since start (from cpuClock), to b's figures.
func reportCPU(b *testing.B, start float64) {
	if now, ok := cpuClock(); ok && b.N > 0 {
		b.ReportMetric((now-start)/float64(b.N), "cpu-ns/op")
	}
}
