package peers

import (
	"syscall"
	"testing"
	"time"
)

// stopGroup ends a peer's whole process group: SIGTERM, then up to timeout for the main
// process to exit (done closes when it has been reaped), then SIGKILL. A last SIGKILL to the
// group takes children that outlived the main process. Every peer stops this way, so no test
// leaves a process behind.
func stopGroup(t testing.TB, name string, pgid int, done <-chan struct{}, timeout time.Duration) {
	select {
	case <-done:
	default:
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(timeout):
			t.Logf("peers: %s did not stop within %v, killing it", name, timeout)
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-done
		}
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}
