// Package bench holds whole-process benchmarks: dialtone measured beside a peer doing the same
// work in the same run, because this machine is too noisy for absolute figures to mean much.
//
//	go test ./bench -run '^$' -bench . -benchtime 1x -v
package bench

import (
	"fmt"
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

// callSeconds is how long each measured call lasts.
const callSeconds = 20

// BenchmarkCallCPU places one call from dialtone to baresip through Kamailio, both sides
// playing a tone from a WAV file and recording what they receive, and reports each process's
// CPU time per second of call and its peak memory.
func BenchmarkCallCPU(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "dialtone")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/dialtone").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	users := map[string]string{"alice": "a-secret", "bob": "b-secret"}
	k := peers.StartKamailio(b, peers.KamailioOptions{Users: users})
	bob := peers.StartBaresip(b, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 700})
	tone := filepath.Join(b.TempDir(), "tone.wav")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", tone, "synth", "60", "sine", "1300").CombinedOutput(); err != nil {
		b.Skipf("sox: %v %s", err, out)
	}
	for b.Loop() {
		bobBefore := cpuOf(b, bob.Pid())
		cmd := exec.Command(bin, "call", "sip:bob@127.0.0.1", "--aor", "sip:alice@127.0.0.1", "--registrar", "sip:"+k.HostPort("udp"),
			"--play", tone, "--record", filepath.Join(b.TempDir(), "rec.wav"), "--duration", fmt.Sprint(callSeconds, "s"))
		cmd.Env = append(os.Environ(), "DIALTONE_PASSWORD="+users["alice"])
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("dialtone call: %v\n%s", err, out)
		}
		if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			b.Fatal(err)
		}
		bobCPU := cpuOf(b, bob.Pid()) - bobBefore
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		ourCPU := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		b.ReportMetric(float64(ourCPU.Milliseconds())/callSeconds, "dialtone-cpu-ms/call-s")
		b.ReportMetric(float64(bobCPU.Milliseconds())/callSeconds, "baresip-cpu-ms/call-s")
		b.ReportMetric(float64(ru.Maxrss)/1024, "dialtone-peak-MB")
		b.ReportMetric(float64(peakRSS(b, bob.Pid()))/1024, "baresip-peak-MB")
	}
}

// cpuOf is a running process's user+system CPU time from /proc/PID/stat.
func cpuOf(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the parenthesised command name; utime and stime are fields 14 and 15.
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticksPerSecond
}

// peakRSS is a running process's peak resident memory in KiB (VmHWM).
func peakRSS(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}
