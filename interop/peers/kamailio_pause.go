package peers

import (
	"errors"
	"fmt"
	"syscall"
)

// Pause freezes every Kamailio process (SIGSTOP to its process group). The kernel still
// accepts connections and acknowledges TCP data, but nothing answers: a hung registrar, or a
// flow that swallows traffic somewhere beyond the socket. The test's cleanup resumes it (a
// stopped process would ignore the SIGTERM of Stop).
func (k *Kamailio) Pause() error {
	if k.cmd == nil || k.cmd.Process == nil {
		return errors.New("peers: kamailio is not running")
	}
	pgid := k.cmd.Process.Pid
	if err := syscall.Kill(-pgid, syscall.SIGSTOP); err != nil {
		return fmt.Errorf("peers: pause kamailio: %w", err)
	}
	k.t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGCONT) })
	return nil
}

// Resume lets a paused Kamailio run again; what arrived meanwhile is handled then.
func (k *Kamailio) Resume() error {
	if k.cmd == nil || k.cmd.Process == nil {
		return errors.New("peers: kamailio is not running")
	}
	if err := syscall.Kill(-k.cmd.Process.Pid, syscall.SIGCONT); err != nil {
		return fmt.Errorf("peers: resume kamailio: %w", err)
	}
	return nil
}
