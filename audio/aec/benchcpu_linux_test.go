package aec

import (
	"syscall"
	"time"
)

// threadCPU is the calling thread's CPU time (the benchmark locks its goroutine to a thread):
// on a machine shared with other work, wall time per frame says more about the neighbours
// than about the canceller.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
