package interop

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tinyDisk is a small tmpfs mounted over dir in a private mount namespace, held by a sleeping
// process: programs run there (Command) see dir as a disk of the given size; the host never
// does. The test reaches the files through the holder's root (Path), so it can fill the disk
// while dialtone runs and read the history after dialtone is gone. The namespace, and the
// tmpfs with it, ends with the holder at cleanup.
type tinyDisk struct {
	dir    string
	holder *exec.Cmd
	done   chan struct{}
}

// newTinyDisk mounts a tmpfs of size (e.g. "2m") over a new temporary directory. It skips
// unless this process may make mount namespaces (root, unshare, nsenter).
func newTinyDisk(t *testing.T, size string) *tinyDisk {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a tmpfs in a private mount namespace needs root")
	}
	for _, tool := range []string{"unshare", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s (util-linux) is not installed", tool)
		}
	}
	d := &tinyDisk{dir: t.TempDir(), done: make(chan struct{})}
	// The holder mounts, says so, and sleeps until killed: its namespace is where dialtone runs.
	script := `mount -t tmpfs -o size="$2",mode=0700 tmpfs "$1" && echo mounted && exec sleep 600`
	d.holder = exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", d.dir, size)
	d.holder.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := d.holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	d.holder.Stderr = &stderr
	if err := d.holder.Start(); err != nil {
		t.Fatalf("unshare: %v", err)
	}
	go func() { _ = d.holder.Wait(); close(d.done) }()
	t.Cleanup(func() {
		_ = d.holder.Process.Kill()
		<-d.done
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case l := <-line:
		if l != "mounted" {
			<-d.done
			t.Skipf("cannot mount a tmpfs in a private mount namespace here: %s", strings.TrimSpace(stderr.String()))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the tmpfs holder did not start within 10 s")
	}
	return d
}

// Command runs a program in the tiny disk's mount namespace (a commander for startDialtoneOn).
func (d *tinyDisk) Command(name string, args ...string) *exec.Cmd {
	ns := "--mount=/proc/" + strconv.Itoa(d.holder.Process.Pid) + "/ns/mnt"
	return exec.Command("nsenter", append([]string{ns, "--", name}, args...)...)
}

// Path is name (a path under dir) as this process reaches it: through the holder's root.
func (d *tinyDisk) Path(name string) string {
	return filepath.Join("/proc", strconv.Itoa(d.holder.Process.Pid), "root", name)
}

// fill writes a file in dir until the disk is full and returns its path and size. It fails
// the test if the write stops for any other reason than ENOSPC.
func (d *tinyDisk) fill(t *testing.T) (string, int64) {
	t.Helper()
	path := filepath.Join(d.dir, "filler")
	f, err := os.OpenFile(d.Path(path), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	var n int64
	for range 1 << 14 { // 1 GiB at most: a tiny disk fills long before
		w, err := f.Write(chunk)
		n += int64(w)
		if errors.Is(err, syscall.ENOSPC) {
			// The last pages a partial write left: fill them byte-wise-ish.
			for _, size := range []int{4096, 512, 1} {
				for range 1 << 12 {
					w, err := f.Write(chunk[:size])
					n += int64(w)
					if err != nil {
						break
					}
				}
			}
			return path, n
		}
		if err != nil {
			t.Fatalf("filling %s: %v after %d bytes", path, err, n)
		}
	}
	t.Fatalf("filling %s: still room after %d bytes", path, n)
	return "", 0
}

// free removes the filler: the disk has room again.
func (d *tinyDisk) free(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(d.Path(path)); err != nil {
		t.Fatal(err)
	}
}

// df says how full the disk is, for the log.
func (d *tinyDisk) df() string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.Path(d.dir), &st); err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%d of %d KiB free", st.Bavail*uint64(st.Bsize)/1024, st.Blocks*uint64(st.Bsize)/1024)
}
