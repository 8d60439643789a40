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
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// CPU per call, issue 10 target 1: ≤ 0.5× baresip on the same work.
//
//	go test ./bench -run '^$' -bench CallCPU -benchtime 1x -v
//	DIALTONE_CALLCPU_BASELINE=<git rev> go test ./bench -run '^$' -bench CallCPU -benchtime 1x -v
//
// DIALTONE_CALLCPU_CALLS (default 5) and DIALTONE_CALLCPU_SECONDS (default 20) set how many
// calls are measured and how long each lasts. With DIALTONE_CALLCPU_BASELINE the dialtone of
// that commit (built from `git archive`, the work tree untouched) places calls too, alternating
// with the current one against the same baresip: before and after in the same run.
// DIALTONE_CPUPROFILE=FILE in the environment makes each dialtone write a pprof CPU profile.

// callCPUDefaults: 5 calls of 20 s keep the whole benchmark near two minutes.
const (
	callCPUCalls   = 5
	callCPUSeconds = 20
)

// callSample is what one measured call cost each side.
type callSample struct {
	ours, peer       float64 // CPU ms per second of call
	oursWake         float64 // dialtone's context switches per second of call (whole process)
	peerWake         float64 // baresip's, over the same call
	oursRSS, peerRSS float64 // peak resident MB
}

// BenchmarkCallCPU places calls from dialtone to an auto-answering baresip through Kamailio,
// both sides playing a tone from a WAV file and recording what they receive, and reports each
// process's CPU time per second of call (median of the calls; min–max logged), the ratio
// dialtone/baresip, wakeups and peak memory. dialtone's figure is the whole process from
// getrusage, start-up and exit included; baresip's is the difference of /proc/PID/stat across
// the call (its start-up excluded). dialtone's start-up alone is measured separately, and a
// second ratio leaves it out, so that both sides are measured alike. The closest comparison
// is the last (call_paired_test.go): a long-running dialtone answerer and baresip each take a
// call at the same moment and are measured over the same window to the nanosecond.
func BenchmarkCallCPU(b *testing.B) {
	calls := callEnvInt(b, "DIALTONE_CALLCPU_CALLS", callCPUCalls)
	seconds := callEnvInt(b, "DIALTONE_CALLCPU_SECONDS", callCPUSeconds)
	type variant struct {
		name, bin string
		samples   []callSample
		answerer  *callAnswerer
		// asAnswerer: the variant as a long-running answerer, per call: its CPU ms and
		// wakeups per second of call, and baresip's in the call just before
		// (call_answerer_test.go).
		asAnswerer, peerBefore, answererWake []float64
		// paired: the variant's answerer and baresip taking a call each at the same moment,
		// measured over the same window (call_paired_test.go).
		paired []pairedSample
	}
	variants := []*variant{{name: "dialtone", bin: buildDialtone(b, "..")}}
	floorBin := buildFrameFloor(b)
	if rev := os.Getenv("DIALTONE_CALLCPU_BASELINE"); rev != "" {
		variants = append(variants, &variant{name: "baseline " + rev, bin: buildBaseline(b, rev)})
	}
	users := map[string]string{"alice": "a-secret", "bob": "b-secret"}
	for i := range variants {
		users[fmt.Sprint("carol", i)] = fmt.Sprint("c-secret-", i)
	}
	k := peers.StartKamailio(b, peers.KamailioOptions{Users: users})
	bob := peers.StartBaresip(b, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 700})
	tone := filepath.Join(b.TempDir(), "tone.wav")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", tone, "synth", fmt.Sprint(seconds+30), "sine", "1300").CombinedOutput(); err != nil {
		b.Skipf("sox is needed to make the tone file: %v %s", err, out)
	}
	for b.Loop() {
		for i, v := range variants {
			user := fmt.Sprint("carol", i)
			v.answerer = startCallAnswerer(b, v.bin, user, users[user], k.HostPort("udp"), tone, 2*calls)
		}
		for i := range calls {
			for _, v := range variants {
				s := callOnce(b, v.bin, bob, k.HostPort("udp"), users["alice"], tone, seconds)
				b.Logf("call %d %s: %.1f ms/s (%.0f wakeups/s, %.1f MB), baresip %.1f ms/s (%.0f wakeups/s), ratio %.2f",
					i+1, v.name, s.ours, s.oursWake, s.oursRSS, s.peer, s.peerWake, s.ours/s.peer)
				v.samples = append(v.samples, s)
				// The same caller (this build) calls the variant's answerer right after baresip.
				cpu, wake := callAnswererOnce(b, variants[0].bin, v.answerer, k.HostPort("udp"), users["alice"], tone, seconds)
				b.Logf("call %d %s as answerer: %.1f ms/s (%.0f wakeups/s), baresip as answerer just before %.1f ms/s, ratio %.2f",
					i+1, v.name, cpu, wake, s.peer, cpu/s.peer)
				v.asAnswerer, v.peerBefore, v.answererWake = append(v.asAnswerer, cpu), append(v.peerBefore, s.peer), append(v.answererWake, wake)
				if p, ok := callPaired(b, variants[0].bin, floorBin, bob, v.answerer, k.HostPort("udp"), users["alice"], tone, seconds); ok {
					b.Logf("call %d %s as answerer beside baresip, same window: %.2f ms/s (%.0f wakeups/s), baresip %.2f ms/s (%.0f wakeups/s), ratio %.2f; the Go floor (framefloor) %.2f ms/s",
						i+1, v.name, p.ours, p.oursWake, p.peer, p.peerWake, p.ours/p.peer, p.floor)
					v.paired = append(v.paired, p)
				}
			}
		}
		for _, v := range variants {
			v.answerer.answererRecorded(b, calls+len(v.paired), seconds)
			// The next iteration registers another answerer as the same user: this one would
			// still be bound, and Kamailio would fork every call to both.
			v.answerer.stop()
		}
	}
	startup := callStartupMs(b, variants[0].bin, calls)
	for j, v := range variants {
		pick := func(f func(callSample) float64) []float64 { return column(v.samples, f) }
		ours, peer := pick(func(s callSample) float64 { return s.ours }), pick(func(s callSample) float64 { return s.peer })
		ratio := pick(func(s callSample) float64 { return s.ours / s.peer })
		b.Logf("%s over %d calls of %d s: %.1f ms/s (%.1f–%.1f), baresip %.1f ms/s (%.1f–%.1f), ratio %.2f (%.2f–%.2f)",
			v.name, len(v.samples), seconds, callMedian(ours), slices.Min(ours), slices.Max(ours),
			callMedian(peer), slices.Min(peer), slices.Max(peer), callMedian(ratio), slices.Min(ratio), slices.Max(ratio))
		// baresip's figure leaves out its process start-up; this one leaves out dialtone's
		// (the median CPU of `dialtone version`), so both count the same work: the call.
		same := pick(func(s callSample) float64 { return (s.ours - startup/float64(seconds)) / s.peer })
		b.Logf("%s without its process start-up (%.1f ms), as baresip is measured: ratio %.2f (%.2f–%.2f)",
			v.name, startup, callMedian(same), slices.Min(same), slices.Max(same))
		answ := make([]float64, len(v.asAnswerer))
		for i := range answ {
			answ[i] = v.asAnswerer[i] / v.peerBefore[i]
		}
		b.Logf("%s as a long-running answerer, measured as baresip is: %.1f ms/s (%.1f–%.1f), %.0f wakeups/s, ratio %.2f (%.2f–%.2f)",
			v.name, callMedian(v.asAnswerer), slices.Min(v.asAnswerer), slices.Max(v.asAnswerer), callMedian(v.answererWake),
			callMedian(answ), slices.Min(answ), slices.Max(answ))
		var pairedRatio float64
		if len(v.paired) > 0 {
			get := func(f func(pairedSample) float64) []float64 { return column(v.paired, f) }
			po, pp := get(func(p pairedSample) float64 { return p.ours }), get(func(p pairedSample) float64 { return p.peer })
			pr := get(func(p pairedSample) float64 { return p.ours / p.peer })
			pairedRatio = callMedian(pr)
			b.Logf("%s as answerer beside baresip, same windows (schedstat): %.2f ms/s (%.2f–%.2f), %.0f wakeups/s; baresip %.2f ms/s (%.2f–%.2f), %.0f wakeups/s; ratio %.2f (%.2f–%.2f)",
				v.name, callMedian(po), slices.Min(po), slices.Max(po), callMedian(get(func(p pairedSample) float64 { return p.oursWake })),
				callMedian(pp), slices.Min(pp), slices.Max(pp), callMedian(get(func(p pairedSample) float64 { return p.peerWake })),
				pairedRatio, slices.Min(pr), slices.Max(pr))
			pf := get(func(p pairedSample) float64 { return p.floor })
			of := get(func(p pairedSample) float64 { return p.ours / p.floor })
			fp := get(func(p pairedSample) float64 { return p.floor / p.peer })
			b.Logf("the Go floor (framefloor) in the same windows: %.2f ms/s (%.2f–%.2f); %s / floor %.2f (%.2f–%.2f); floor / baresip %.2f (%.2f–%.2f)",
				callMedian(pf), slices.Min(pf), slices.Max(pf), v.name, callMedian(of), slices.Min(of), slices.Max(of),
				callMedian(fp), slices.Min(fp), slices.Max(fp))
			if j == 0 {
				b.ReportMetric(callMedian(fp), "floor-paired-ratio")
			}
		}
		if j > 0 {
			if len(v.paired) > 0 {
				b.ReportMetric(pairedRatio, "baseline-paired-ratio")
			}
			b.ReportMetric(callMedian(ours), "baseline-cpu-ms/call-s")
			b.ReportMetric(callMedian(ratio), "baseline-ratio")
			b.ReportMetric(callMedian(same), "baseline-ratio-excl-startup")
			b.ReportMetric(callMedian(answ), "baseline-answerer-ratio")
			continue
		}
		b.ReportMetric(callMedian(ours), "dialtone-cpu-ms/call-s")
		b.ReportMetric(callMedian(peer), "baresip-cpu-ms/call-s")
		b.ReportMetric(callMedian(ratio), "ratio")
		b.ReportMetric(callMedian(same), "ratio-excl-startup")
		b.ReportMetric(callMedian(answ), "answerer-ratio")
		b.ReportMetric(callMedian(v.asAnswerer), "dialtone-answerer-cpu-ms/call-s")
		if len(v.paired) > 0 {
			b.ReportMetric(pairedRatio, "paired-ratio")
		}
		b.ReportMetric(callMedian(pick(func(s callSample) float64 { return s.oursWake })), "dialtone-wakeups/s")
		b.ReportMetric(callMedian(pick(func(s callSample) float64 { return s.peerWake })), "baresip-wakeups/s")
		b.ReportMetric(slices.Max(pick(func(s callSample) float64 { return s.oursRSS })), "dialtone-peak-MB")
		b.ReportMetric(slices.Max(pick(func(s callSample) float64 { return s.peerRSS })), "baresip-peak-MB")
		b.ReportMetric(startup, "dialtone-startup-ms")
	}
}

// callOnce places one call of the given length and measures both sides.
func callOnce(b *testing.B, bin string, bob *peers.Baresip, registrar, password, tone string, seconds int) callSample {
	bobBefore, bobWakeBefore := cpuOf(b, bob.Pid()), switchesOf(b, bob.Pid())
	dir := b.TempDir()
	cmd := exec.Command(bin, "call", "sip:bob@127.0.0.1", "--aor", "sip:alice@127.0.0.1", "--registrar", "sip:"+registrar,
		"--play", tone, "--record", filepath.Join(dir, "rec.wav"), "--duration", fmt.Sprint(seconds, "s"))
	cmd.Env = append(os.Environ(), "DIALTONE_PASSWORD="+password, "XDG_CONFIG_HOME="+dir, "XDG_STATE_HOME="+dir, "XDG_DATA_HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("dialtone call: %v\n%s", err, out)
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		b.Fatal(err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	ours := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	peer := cpuOf(b, bob.Pid()) - bobBefore
	secs := float64(seconds)
	return callSample{
		ours:     float64(ours.Microseconds()) / 1000 / secs,
		peer:     float64(peer.Microseconds()) / 1000 / secs,
		oursWake: float64(ru.Nvcsw+ru.Nivcsw) / secs,
		peerWake: float64(switchesOf(b, bob.Pid())-bobWakeBefore) / secs,
		oursRSS:  float64(ru.Maxrss) / 1024,
		peerRSS:  float64(peakRSS(b, bob.Pid())) / 1024,
	}
}

// callStartupMs is the median CPU of `dialtone version`: loading the binary, the runtime and
// every package's initialisation, the floor under any dialtone command.
func callStartupMs(b *testing.B, bin string, n int) float64 {
	var ms []float64
	for range max(n, 1) {
		cmd := exec.Command(bin, "version")
		cmd.Env = append(os.Environ(), "DIALTONE_CPUPROFILE=") // keep a call's profile, if one is being taken
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("dialtone version: %v\n%s", err, out)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		ms = append(ms, float64(ru.Utime.Nano()+ru.Stime.Nano())/1e6)
	}
	b.Logf("dialtone start-up (version): %.1f ms CPU median (%.1f–%.1f)", callMedian(ms), slices.Min(ms), slices.Max(ms))
	return callMedian(ms)
}

func callEnvInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// column is f of each of xs: one figure of every sample.
func column[T any](xs []T, f func(T) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func callMedian(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
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
