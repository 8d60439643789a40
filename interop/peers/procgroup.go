package peers

import (
	"os"
	"os/exec"
	"path/filepath"
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

// startGroup starts a peer in a process group of its own, so stopGroup can end it with every
// child it spawns, and so the kernel kills it if the test binary dies. wait runs once the
// process has exited (with Wait's error), before the returned channel closes.
func startGroup(cmd *exec.Cmd, wait func(error)) (<-chan struct{}, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		wait(cmd.Wait())
		close(done)
	}()
	return done, nil
}

// findModuleDir returns the first of dirs holding the file probe (a module every install
// has), or the directory named by the environment variable env when it is set.
func findModuleDir(env string, dirs []string, probe string) (string, bool) {
	if d := os.Getenv(env); d != "" {
		return d, true
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, probe)); err == nil {
			return d, true
		}
	}
	return "", false
}

// startWithRetry starts a peer whose port was chosen free a moment before it binds it: start
// picks the port and starts the peer; when it fails, stop cleans up and, if clash says another
// process took the port meanwhile, it is tried again (startTries in all). Any other failure
// fails the test with log's text.
func startWithRetry(t testing.TB, name string, start func() (port int, err error), stop func(), clash func() bool, log func() string) {
	t.Helper()
	for try := 1; ; try++ {
		port, err := start()
		if err == nil {
			return
		}
		stop()
		if try < startTries && clash() {
			t.Logf("peers: %s port clash on %d, retrying", name, port)
			continue
		}
		t.Fatalf("peers: starting %s: %v\n%s", name, err, log())
	}
}
