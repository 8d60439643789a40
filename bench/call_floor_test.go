package bench

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The floor: in the same window as the paired calls, two cmd/framefloor processes do the least
// a Go process can do for a call's media (a timerfd wake, one datagram in, one out, every
// 20 ms; no codec, files or SIP) to each other, and one of them is measured as the answerers
// are. dialtone/floor says how much of its CPU is its own work; floor/baresip, how low a Go
// softphone can get on this machine at all.

// frameFloor is a running pair of framefloor processes; meter follows the first.
type frameFloor struct {
	cmds  [2]*exec.Cmd
	meter *cpuMeter
}

// buildFrameFloor builds cmd/framefloor for the bench.
func buildFrameFloor(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "framefloor")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/framefloor").CombinedOutput(); err != nil {
		b.Fatalf("build framefloor: %v\n%s", err, out)
	}
	return bin
}

// startFrameFloor starts the pair for longer than a call of seconds, and a meter on the first.
func startFrameFloor(bin string, seconds int) (*frameFloor, error) {
	var ports [2]int
	for i := range ports {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0") // a free port, given back at once
		if err != nil {
			return nil, err
		}
		ports[i] = c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
	}
	f := &frameFloor{}
	for i := range f.cmds {
		f.cmds[i] = exec.Command(bin, "-local", fmt.Sprint("127.0.0.1:", ports[i]), "-remote", fmt.Sprint("127.0.0.1:", ports[1-i]),
			"-seconds", fmt.Sprint(seconds+60))
		if err := f.cmds[i].Start(); err != nil {
			f.stop()
			return nil, fmt.Errorf("framefloor: %w", err)
		}
	}
	time.Sleep(200 * time.Millisecond) // past the Go runtime's start-up, which the answerers have behind them
	m, err := startCPUMeter(f.cmds[0].Process.Pid)
	if err != nil {
		f.stop()
		return nil, err
	}
	f.meter = m
	return f, nil
}

// stop halts the meter and ends both processes.
func (f *frameFloor) stop() {
	if f.meter != nil {
		f.meter.halt()
	}
	for _, c := range f.cmds {
		if c != nil && c.Process != nil {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}
}
