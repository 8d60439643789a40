package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// idleWindow is how long each idle process is watched.
const idleWindow = 10 * time.Second

// BenchmarkTUIIdle opens the full-screen interface in tmux, registered at Kamailio and doing
// nothing, and reports its CPU use and wakeups (context switches) per second, beside an idle
// registered baresip watched over the same window.
func BenchmarkTUIIdle(b *testing.B) {
	if _, err := exec.LookPath("tmux"); err != nil {
		b.Skip("tmux is not installed")
	}
	bin := filepath.Join(b.TempDir(), "dialtone")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/dialtone").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	users := map[string]string{"alice": "a-secret", "bob": "b-secret"}
	k := peers.StartKamailio(b, peers.KamailioOptions{Users: users})
	bob := peers.StartBaresip(b, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp")})
	sock := filepath.Join(b.TempDir(), "tmux.sock")
	pidFile := filepath.Join(b.TempDir(), "pid")
	shell := fmt.Sprintf("echo $$ > %s; exec env DIALTONE_PASSWORD=%s XDG_CONFIG_HOME=%s %s --aor sip:alice@127.0.0.1 --registrar sip:%s",
		pidFile, users["alice"], b.TempDir(), bin, k.HostPort("udp"))
	if out, err := exec.Command("tmux", "-S", sock, "new-session", "-d", "-x", "120", "-y", "40", shell).CombinedOutput(); err != nil {
		b.Fatalf("tmux: %v %s", err, out)
	}
	b.Cleanup(func() { _ = exec.Command("tmux", "-S", sock, "kill-server").Run() })
	var pid int
	for deadline := time.Now().Add(10 * time.Second); pid == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		raw, _ := os.ReadFile(pidFile)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(raw)))
	}
	if pid == 0 {
		b.Fatal("dialtone did not start in tmux")
	}
	time.Sleep(3 * time.Second) // registered, first screens drawn
	for b.Loop() {
		dCPU, dSw := cpuOf(b, pid), switchesOf(b, pid)
		bCPU, bSw := cpuOf(b, bob.Pid()), switchesOf(b, bob.Pid())
		time.Sleep(idleWindow)
		secs := idleWindow.Seconds()
		b.ReportMetric(float64((cpuOf(b, pid)-dCPU).Milliseconds())/secs, "dialtone-cpu-ms/s")
		b.ReportMetric(float64(switchesOf(b, pid)-dSw)/secs, "dialtone-wakeups/s")
		b.ReportMetric(float64((cpuOf(b, bob.Pid())-bCPU).Milliseconds())/secs, "baresip-cpu-ms/s")
		b.ReportMetric(float64(switchesOf(b, bob.Pid())-bSw)/secs, "baresip-wakeups/s")
	}
}

// switchesOf is the number of context switches of all a process's threads (voluntary and
// not): each one is the process waking up or being woken.
func switchesOf(b *testing.B, pid int) int64 {
	dirs, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, d := range dirs {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, d.Name()))
		if err != nil {
			continue // the thread ended meanwhile
		}
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "voluntary_ctxt_switches:"); ok {
				x, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				n += x
			}
			if v, ok := strings.CutPrefix(line, "nonvoluntary_ctxt_switches:"); ok {
				x, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				n += x
			}
		}
	}
	return n
}
