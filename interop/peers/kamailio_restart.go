package peers

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// Kill ends Kamailio at once: SIGKILL to its whole process group, as a crash or the OOM killer
// would. Nothing is sent first (no TCP goodbye beyond what the kernel does for a dead
// process's sockets), and the bindings, kept in memory only (usrloc db_mode 0), are lost.
// Kill returns once the main process has been reaped; its children may hold the ports a
// moment longer. Then UDP to the port draws ICMP port unreachable, and Restart binds it again.
func (k *Kamailio) Kill() error {
	if k.cmd == nil || k.cmd.Process == nil {
		return errors.New("peers: kamailio is not running")
	}
	pgid := k.cmd.Process.Pid
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("peers: kill kamailio: %w", err)
	}
	select {
	case <-k.done:
	case <-time.After(stopTimeout):
		return fmt.Errorf("peers: kamailio (pid %d) not reaped %v after SIGKILL", pgid, stopTimeout)
	}
	k.cmd = nil
	return nil
}

// Restart starts a killed or stopped Kamailio again with the same configuration, on the same
// ports, and waits until it answers, as a supervisor restarting a crashed registrar would. Its
// registrations start empty. The test's cleanup stops the new process.
func (k *Kamailio) Restart() error {
	if k.cmd != nil {
		return errors.New("peers: kamailio is still running")
	}
	bin, ok := findBinary("kamailio")
	if !ok {
		return errors.New("peers: kamailio binary not found")
	}
	if err := k.start(bin); err != nil {
		k.Stop()
		return fmt.Errorf("peers: restarting kamailio on port %d: %w\n--- kamailio log ---\n%s", k.port, err, k.Log())
	}
	return nil
}
