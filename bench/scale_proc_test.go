package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// scaleProc is one process of the scale benchmark: its own process group (stopped at cleanup
// whatever happens), stdout and stderr in files.
type scaleProc struct {
	name    string
	cmd     *exec.Cmd
	outPath string
	errPath string
	done    chan struct{}
	err     error
}

func scaleStart(b *testing.B, name, bin string, args ...string) *scaleProc {
	dir := b.TempDir()
	p := &scaleProc{name: name, outPath: filepath.Join(dir, "stdout"), errPath: filepath.Join(dir, "stderr"), done: make(chan struct{})}
	out, err := os.Create(p.outPath)
	if err != nil {
		b.Fatal(err)
	}
	errf, err := os.Create(p.errPath)
	if err != nil {
		b.Fatal(err)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_STATE_HOME="+dir)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.cmd.Stdout, p.cmd.Stderr = out, errf
	if err := p.cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		out.Close()
		errf.Close()
		close(p.done)
	}()
	b.Cleanup(p.stop)
	return p
}

// stop ends the process group: SIGTERM, then SIGKILL after 5 s.
func (p *scaleProc) stop() {
	stopGroup(p.cmd, p.done, 5*time.Second)
}

// wait waits up to timeout for the process to exit by itself and returns its exit code (-1
// when it did not exit in time: it is then stopped).
func (p *scaleProc) wait(timeout time.Duration) int {
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.stop()
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *scaleProc) pid() int { return p.cmd.Process.Pid }

// usage is the whole life's CPU and peak RSS (MB) of an exited process, from getrusage.
func (p *scaleProc) usage() (time.Duration, float64) {
	ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), float64(ru.Maxrss) / 1024
}

// tail is the end of what the process printed, for failure messages.
func (p *scaleProc) tail() string {
	var b strings.Builder
	for _, f := range []string{p.outPath, p.errPath} {
		raw, _ := os.ReadFile(f)
		if len(raw) > 3000 {
			raw = raw[len(raw)-3000:]
		}
		fmt.Fprintf(&b, "--- %s %s ---\n%s\n", p.name, filepath.Base(f), raw)
	}
	return b.String()
}

// ndjson calls each for every JSON line of the process's stdout.
func (p *scaleProc) ndjson(each func(map[string]any)) {
	f, err := os.Open(p.outPath)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			each(m)
		}
	}
}

// scaleWaitUDP waits until something holds UDP port on 127.0.0.1 (the UAS is up).
func scaleWaitUDP(b *testing.B, port int, p *scaleProc) {
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return // taken: it listens
		}
		c.Close()
		select {
		case <-p.done:
			b.Fatalf("%s exited before listening\n%s", p.name, p.tail())
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s not listening on UDP %d after 10 s\n%s", p.name, port, p.tail())
		}
	}
}

// scaleFreePorts returns n distinct free UDP ports on 127.0.0.1, the first one even with the
// one two above it free too (sipp binds its media port and that one).
func scaleFreePorts(b *testing.B, n int) []int {
	var held []net.PacketConn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	listen := func(port int) (int, bool) {
		c, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			return 0, false
		}
		held = append(held, c)
		return c.LocalAddr().(*net.UDPAddr).Port, true
	}
	var ports []int
	for range 200 {
		p, ok := listen(0)
		if !ok {
			continue
		}
		if len(ports) == 0 {
			if _, ok := listen(p + 2); p%2 != 0 || !ok {
				continue
			}
		}
		ports = append(ports, p)
		if len(ports) == n {
			return ports
		}
	}
	b.Fatal("no free UDP ports on 127.0.0.1")
	return nil
}

// udpDropsOf is how many datagrams the kernel dropped on the UDP sockets process pid holds
// open now (the drops column of /proc/net/udp, summed): the packets it did not read in time.
// -1 when unknown.
func udpDropsOf(pid int) int64 {
	inodes, err := peers.SocketInodes(pid)
	if err != nil {
		return -1
	}
	socks, err := peers.UDPSockets("udp")
	if err != nil {
		return -1
	}
	var n int64
	for _, s := range socks {
		if inodes[s.Inode] {
			n += s.Drops
		}
	}
	return n
}

// udpRcvbufErrors is the kernel's count of UDP datagrams dropped because a socket's receive
// buffer was full (/proc/net/snmp, this network namespace): where packets go that a process
// does not read in time. -1 when unknown.
func udpRcvbufErrors() int64 {
	raw, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return -1
	}
	var head []string
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if head == nil {
			head = f
			continue
		}
		for i, name := range head {
			if name == "RcvbufErrors" && i < len(f) {
				n, err := strconv.ParseInt(f[i], 10, 64)
				if err == nil {
					return n
				}
			}
		}
	}
	return -1
}
