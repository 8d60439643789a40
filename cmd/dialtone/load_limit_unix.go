//go:build unix

package main

import "syscall"

// loadFilesPerCall is what one call holds open: its RTP and RTCP sockets (the pacer's timerfd
// is shared by every call), and one spare for the SIP side.
const loadFilesPerCall = 3

// checkFileLimit refuses a load that would run out of file descriptors half-way, with the
// figure to raise, instead of failing calls with "too many open files". Go has already
// raised the soft limit to the hard one at start-up (RLIM_INFINITY is the largest uint64).
func checkFileLimit(concurrent int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return nil // unknown: let the calls tell
	}
	need := uint64(concurrent)*loadFilesPerCall + 64
	if need > lim.Cur {
		return usageErr("%d calls at once need about %d open files, but the limit is %d: take fewer at once or raise ulimit -n", concurrent, need, lim.Cur)
	}
	return nil
}
