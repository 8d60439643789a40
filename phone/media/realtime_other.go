//go:build !linux

package media

// promoteThread: real-time pacer threads are Linux only (realtime_linux.go), like the shared
// pacer's timer.
func promoteThread() bool { return false }

func demoteThread() {}
