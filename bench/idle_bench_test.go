package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// Idle cost: dialtone registered and untouched, watched beside an idle registered baresip over
// the same windows. Issue 10's targets: ≤ 1 ms CPU/s and ≤ 2 wakeups/s, RSS ≤ 20 MB headless
// and ≤ 30 MB for the TUI.
//
//	go test ./bench -run '^$' -bench Idle -benchtime 1x -v
//	DIALTONE_IDLE_BASELINE=<git rev or binary> go test ./bench -run '^$' -bench Idle -benchtime 1x -v
//
// With DIALTONE_IDLE_BASELINE, the dialtone of that commit (built from `git archive`, so the
// work tree is untouched) is watched too, in the same windows: before and after, same run.

const (
	idleWindow  = 30 * time.Second // each measurement window
	idleWindows = 5                // windows; the median is reported, min–max logged
	idleSettle  = 5 * time.Second  // registered, first screens drawn, start-up GC done
)

// idleProc is one process being watched.
type idleProc struct {
	name string
	pid  int
}

// idleSample is a process's counters at one instant.
type idleSample struct {
	cpu      time.Duration
	switches int64
}

// BenchmarkIdle starts, at one Kamailio, an idle registered baresip and dialtone's TUI (in
// tmux, 120×40) and headless `answer` over UDP and over TCP (the TCP one runs the flow
// keeper), then reports each one's CPU ms/s, wakeups/s (context switches of all its threads,
// /proc/PID/task/*/status) and resident memory, medians over idleWindows windows.
func BenchmarkIdle(b *testing.B) {
	if _, err := exec.LookPath("tmux"); err != nil {
		b.Skip("tmux is not installed: the TUI needs a terminal")
	}
	bins := map[string]string{"": buildDialtone(b, "..")}
	if rev := os.Getenv("DIALTONE_IDLE_BASELINE"); rev != "" {
		bins["before-"] = baselineBin(b, rev)
	}
	users := map[string]string{"bob": "b-secret"}
	for prefix := range bins {
		for _, u := range []string{"tui", "udp", "tcp"} {
			users[prefix+u] = "secret-" + prefix + u
		}
	}
	k := peers.StartKamailio(b, peers.KamailioOptions{Users: users})
	bob := peers.StartBaresip(b, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp")})
	procs := []idleProc{{"baresip", bob.Pid()}}
	for _, prefix := range slices.Sorted(func(yield func(string) bool) {
		for p := range bins {
			if !yield(p) {
				return
			}
		}
	}) {
		bin := bins[prefix]
		procs = append(procs,
			idleProc{prefix + "tui", startTUI(b, bin, prefix+"tui", users[prefix+"tui"], k.HostPort("udp"))},
			idleProc{prefix + "headless-udp", startHeadless(b, bin, prefix+"udp", users[prefix+"udp"], k.HostPort("udp"), "udp")},
			idleProc{prefix + "headless-tcp", startHeadless(b, bin, prefix+"tcp", users[prefix+"tcp"], k.HostPort("tcp"), "tcp")},
		)
	}
	time.Sleep(idleSettle)
	for b.Loop() {
		cpu := map[string][]float64{}
		wake := map[string][]float64{}
		for range idleWindows {
			start := make([]idleSample, len(procs))
			for i, p := range procs {
				start[i] = sampleOf(b, p)
			}
			time.Sleep(idleWindow)
			secs := idleWindow.Seconds()
			for i, p := range procs {
				end := sampleOf(b, p)
				cpu[p.name] = append(cpu[p.name], float64(end.cpu-start[i].cpu)/float64(time.Millisecond)/secs)
				wake[p.name] = append(wake[p.name], float64(end.switches-start[i].switches)/secs)
			}
		}
		for _, p := range procs {
			c, w := median(cpu[p.name]), median(wake[p.name])
			rss := float64(rssOf(b, p.pid, "VmRSS:")) / 1024
			b.ReportMetric(c, p.name+"-cpu-ms/s")
			b.ReportMetric(w, p.name+"-wakeups/s")
			b.ReportMetric(rss, p.name+"-rss-MB")
			anon := float64(rssOf(b, p.pid, "RssAnon:")) / 1024
			b.ReportMetric(anon, p.name+"-rss-anon-MB")
			// RSS is mostly file pages: the executable's text and read-only data, which the
			// page cache shares between processes; the anonymous part is what the process
			// itself allocated (heap, stacks).
			b.Logf("%-20s cpu %.2f ms/s (%.2f–%.2f)  wakeups %.2f/s (%.2f–%.2f)  rss %.1f MB (peak %.1f, anonymous %.1f)",
				p.name, c, slices.Min(cpu[p.name]), slices.Max(cpu[p.name]),
				w, slices.Min(wake[p.name]), slices.Max(wake[p.name]),
				rss, float64(rssOf(b, p.pid, "VmHWM:"))/1024, anon)
		}
	}
}

// startTUI opens dialtone's full-screen interface in its own tmux server and returns its pid.
func startTUI(b *testing.B, bin, user, password, registrar string) int {
	dir := b.TempDir()
	sock, pidFile := filepath.Join(dir, "tmux.sock"), filepath.Join(dir, "pid")
	shell := fmt.Sprintf("echo $$ > %s; exec env DIALTONE_PASSWORD=%s XDG_CONFIG_HOME=%s XDG_STATE_HOME=%s XDG_DATA_HOME=%s %s --aor sip:%s@127.0.0.1 --registrar sip:%s",
		pidFile, password, dir, dir, dir, bin, user, registrar)
	if out, err := exec.Command("tmux", "-S", sock, "new-session", "-d", "-x", "120", "-y", "40", shell).CombinedOutput(); err != nil {
		b.Fatalf("tmux: %v %s", err, out)
	}
	b.Cleanup(func() { _ = exec.Command("tmux", "-S", sock, "kill-server").Run() })
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		raw, _ := os.ReadFile(pidFile)
		if pid, _ := strconv.Atoi(strings.TrimSpace(string(raw))); pid != 0 {
			return pid
		}
	}
	b.Fatal("dialtone did not start in tmux")
	return 0
}

// startHeadless runs `dialtone answer` (waiting for calls, answering none) and returns its pid.
func startHeadless(b *testing.B, bin, user, password, registrar, transport string) int {
	dir := b.TempDir()
	cmd := exec.Command(bin, "answer", "--aor", "sip:"+user+"@127.0.0.1", "--registrar", "sip:"+registrar,
		"--transport", transport, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "DIALTONE_PASSWORD="+password, "XDG_CONFIG_HOME="+dir, "XDG_STATE_HOME="+dir, "XDG_DATA_HOME="+dir)
	log, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		b.Fatalf("dialtone answer: %v", err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = log.Close()
	})
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if raw, _ := os.ReadFile(log.Name()); strings.Contains(string(raw), ": registered ") || strings.Contains(string(raw), `"event":"registered"`) {
			return cmd.Process.Pid
		}
	}
	raw, _ := os.ReadFile(log.Name())
	b.Fatalf("dialtone answer over %s did not register:\n%s", transport, raw)
	return 0
}

func sampleOf(b *testing.B, p idleProc) idleSample {
	return idleSample{cpu: cpuOf(b, p.pid), switches: switchesOf(b, p.pid)}
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// rssOf is a line of /proc/PID/status in KiB: "VmRSS:" now, "VmHWM:" the peak, "RssAnon:"
// the part that is not file pages.
func rssOf(b *testing.B, pid int, field string) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
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
