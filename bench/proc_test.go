package bench

import (
	"os/exec"
	"syscall"
	"time"
)

// stopGroup ends the process group cmd leads (it was started with Setpgid): SIGTERM, so the
// phone hangs up and unregisters as a user's would, then SIGKILL if it has not exited (done
// closed) within grace. It returns at once if the process has already exited.
func stopGroup(cmd *exec.Cmd, done <-chan struct{}, grace time.Duration) {
	select {
	case <-done:
		return
	default:
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}
