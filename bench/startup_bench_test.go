package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startupRuns is how many times each command runs per binary (interleaved, so load drift hits
// every binary alike).
const startupRuns = 30

// BenchmarkStartup measures the CPU (user+system, from the child's rusage) a process start
// costs: `dialtone version` (start-up and exit, nothing else) and a whole shortest call,
// `dialtone call` answered at once by a bare sipgo UAS and hung up at once (start-up, the
// phone, one INVITE/ACK/BYE, the history written, exit), beside `baresip -v` (its start-up
// and exit) in the same run. Medians of startupRuns runs.
//
//	go test ./bench -run '^$' -bench Startup -benchtime 1x -v
//	DIALTONE_STARTUP_BASELINE=<git rev or binary> go test ...   # adds that dialtone, same run
func BenchmarkStartup(b *testing.B) {
	bins := []struct{ name, path string }{{"dialtone", buildDialtone(b, "..")}}
	if rev := os.Getenv("DIALTONE_STARTUP_BASELINE"); rev != "" {
		bins = append(bins, struct{ name, path string }{"baseline", baselineBin(b, rev)})
	}
	bare := filepath.Join(b.TempDir(), "bareuas")
	if out, err := exec.Command("go", "build", "-o", bare, "./cmd/bareuas").CombinedOutput(); err != nil {
		b.Fatalf("build bareuas: %v\n%s", err, out)
	}
	port := taFreePort(b)
	taStartUAS(b, port, bare, "-listen", fmt.Sprintf("127.0.0.1:%d", port), "-count", "1000000")
	data := b.TempDir()
	type cmd struct {
		name string
		argv func(bin string) []string
	}
	cmds := []cmd{
		{"version", func(bin string) []string { return []string{bin, "version"} }},
		{"call", func(bin string) []string {
			return []string{bin, "call", "sip:bench@127.0.0.1:" + strconv.Itoa(port), "--audio", "null", "--duration", "1ms",
				"--config", "/dev/null", "--data-dir", data}
		}},
	}
	var peers []cmd
	if baresip, err := exec.LookPath("baresip"); err == nil {
		peers = append(peers, cmd{"baresip -v", func(string) []string { return []string{baresip, "-v"} }})
	}
	for b.Loop() {
		cpu := map[string][]time.Duration{}
		for range startupRuns {
			for _, bin := range bins {
				for _, c := range cmds {
					cpu[bin.name+" "+c.name] = append(cpu[bin.name+" "+c.name], childCPU(b, c.argv(bin.path)))
				}
			}
			for _, p := range peers {
				cpu[p.name] = append(cpu[p.name], childCPU(b, p.argv("")))
			}
		}
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range cpu {
				if !yield(k) {
					return
				}
			}
		}) {
			v := slices.Sorted(slices.Values(cpu[k]))
			med := v[len(v)/2]
			b.Logf("%-20s CPU median %.1f ms (%.1f–%.1f)", k, ms(med), ms(v[0]), ms(v[len(v)-1]))
			b.ReportMetric(ms(med), strings.NewReplacer(" ", "-").Replace(k)+"-cpu-ms") // units have no spaces
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// childCPU runs argv to completion and returns its user+system CPU time.
func childCPU(b *testing.B, argv []string) time.Duration {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if out, err := cmd.CombinedOutput(); err != nil && argv[len(argv)-1] != "-v" { // baresip -v exits 0 or not, by version
		b.Fatalf("%v: %v\n%s", argv, err, taTail(string(out), 2000))
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Fatal("no rusage")
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
