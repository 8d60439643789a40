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
)

// Scale, issue 10 target 6: 1000 concurrent G.711 calls on 2 cores, p99 send lateness < 10 ms,
// no loss on loopback, side by side with sipp's RTP echo at the same load.
//
//	go test ./bench -run '^$' -bench Scale -benchtime 1x -v
//
// DIALTONE_SCALE_CALLS (default 1000) is N, or a list (250,500,1000) run in turn to find where
// it breaks (metrics are the last N's), DIALTONE_SCALE_RATE (default 100) the calls placed
// per second, DIALTONE_SCALE_HOLD (default 20) the seconds all N calls are up together: the
// measured window. One side takes ~2·N/rate + hold + 5 s; both sides run in each iteration.
// DIALTONE_SCALE_BASELINE=<git rev> adds a third side: load and answer built from that commit
// (git archive; the work tree untouched), for a before/after in the same run.
// DIALTONE_SCALE_REV=<git rev> builds the measured dialtone from that commit instead of the
// work tree (which other work in flight may leave half-changed).
const (
	scaleCalls = 1000
	scaleRate  = 100
	scaleHold  = 20
)

// scaleSide is one run of `dialtone load` against one UAS.
type scaleSide struct {
	label            string // dialtone, sipp, or baseline
	uas              string
	uasCPU, loadCPU  float64 // % of one core over the window (user+sys, /proc/PID/stat)
	uasRSS, loadRSS  float64 // peak MB over the whole life (getrusage)
	uasExit, loadEx  int
	answered, failed int
	peak             int
	setupP50         float64 // ms
	setupP99         float64
	lossPct          float64 // frames missing at playout on the load side
	netLossPct       float64 // packets that never reached the load side
	jitterP50        float64 // ms, RFC 3550 interarrival jitter of what load received
	jitterP99        float64
	mosMin           float64
	lateP99          float64 // ms, the load process's pacer over its whole life, -1 if it reports none
	steadyLateP99    float64 // ms, the same while every call was up, -1 if unknown
	uasLost, uasLate float64 // what dialtone answer reports it missed (sipp reports nothing)
	uasRecv          float64
	// CPU per RTP packet handled (sent or received), whole process life (getrusage): the work
	// each packet costs, which a busy machine delays but does not change as much as it
	// changes the CPU share a process gets. The syscall floor is about 8 µs.
	uasUsPerPkt, loadUsPerPkt float64
	rcvbufDrops               int64  // kernel UDP receive-buffer drops over the side's run (whole namespace)
	uasDrops                  int64  // datagrams the kernel dropped on the UAS's sockets, by the window's end
	loadDrops                 int64  // the same for load's sockets
	loadavg                   string // /proc/loadavg when the side started: how busy the machine was
}

// BenchmarkScale runs `dialtone load` with N calls (each playing a WAV, looped) first against
// `dialtone answer --auto --count N --max-calls N --audio null`, then against sipp's uas_echo
// scenario with -rtp_echo, on loopback, and measures both processes of each side over the
// window when all N calls are up: CPU (% of one core), peak RSS, calls answered, setup time,
// loss, jitter and the load side's pacer lateness.
func BenchmarkScale(b *testing.B) {
	ns := scaleCounts(b)
	rate := callEnvInt(b, "DIALTONE_SCALE_RATE", scaleRate)
	hold := time.Duration(callEnvInt(b, "DIALTONE_SCALE_HOLD", scaleHold)) * time.Second
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		b.Skip("sipp is not installed (the sip-tester package)")
	}
	bin := ""
	if rev := os.Getenv("DIALTONE_SCALE_REV"); rev != "" {
		bin = buildBaseline(b, rev)
	} else {
		bin = buildDialtone(b, "..")
	}
	tone := filepath.Join(b.TempDir(), "tone.wav")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", tone, "synth", "3", "sine", "1000", "vol", "0.5").CombinedOutput(); err != nil {
		b.Skipf("sox is needed to make the tone file: %v %s", err, out)
	}
	scenario, err := filepath.Abs("../interop/peers/testdata/sipp/uas_echo.xml")
	if err != nil {
		b.Fatal(err)
	}
	type variant struct{ label, uas, bin string }
	variants := []variant{{"dialtone", "dialtone", bin}, {"sipp", "sipp", bin}}
	if rev := os.Getenv("DIALTONE_SCALE_BASELINE"); rev != "" {
		variants = append(variants, variant{"baseline", "dialtone", buildBaseline(b, rev)})
	}
	var sides []scaleSide
	for b.Loop() {
		for _, v := range variants {
			for _, n := range ns {
				s := scaleRun(b, v.uas, v.bin, sipp, scenario, tone, n, rate, hold)
				if n != ns[len(ns)-1] {
					b.Logf("%-8s N=%d: answered %d, failed %d, loss %.3f %% (never arrived %.3f %%), pacer late p99 with all calls up %s, CPU answer/echo %.1f %% load %.1f %%",
						v.label, n, s.answered, s.failed, s.lossPct, s.netLossPct, lateText(s.steadyLateP99), s.uasCPU, s.loadCPU)
					continue
				}
				s.label = v.label
				b.Logf("%-8s N=%d: answered %d (failed %d, peak %d at once); CPU answer/echo %.1f %% load %.1f %%; RSS %.0f MB / %.0f MB; "+
					"setup p50 %.1f p99 %.1f ms; load-side loss %.3f %% (never arrived %.3f %%), jitter p50 %.2f p99 %.2f ms, MOS min %.2f; "+
					"pacer late p99 %s (all calls up: %s); socket drops uas %d load %d (namespace %d); exit uas %d load %d; load average %s",
					s.label, n, s.answered, s.failed, s.peak, s.uasCPU, s.loadCPU, s.uasRSS, s.loadRSS, s.setupP50, s.setupP99,
					s.lossPct, s.netLossPct, s.jitterP50, s.jitterP99, s.mosMin, lateText(s.lateP99), lateText(s.steadyLateP99), s.uasDrops, s.loadDrops, s.rcvbufDrops, s.uasExit, s.loadEx, s.loadavg)
				if v.uas == "dialtone" {
					b.Logf("%s answer received %.0f packets, missed %.0f frames at playout (%.0f late)", s.label, s.uasRecv, s.uasLost, s.uasLate)
				}
				b.Logf("%s CPU per RTP packet handled (whole life): UAS %.1f µs, load %.1f µs", s.label, s.uasUsPerPkt, s.loadUsPerPkt)
				sides = append(sides, s)
			}
		}
	}
	med := func(label string, f func(scaleSide) float64) float64 {
		var v []float64
		for _, s := range sides {
			if s.label == label {
				v = append(v, f(s))
			}
		}
		if len(v) == 0 {
			return 0
		}
		return callMedian(v)
	}
	spread := func(label, what string, f func(scaleSide) float64) {
		var v []float64
		for _, s := range sides {
			if s.label == label {
				v = append(v, f(s))
			}
		}
		if len(v) > 1 {
			b.Logf("%s %s over %d runs: median %.2f (%.2f–%.2f)", label, what, len(v), callMedian(v), slices.Min(v), slices.Max(v))
		}
	}
	for _, v := range variants {
		uas := v.label
		spread(uas, "UAS CPU %", func(s scaleSide) float64 { return s.uasCPU })
		spread(uas, "load CPU %", func(s scaleSide) float64 { return s.loadCPU })
		spread(uas, "UAS µs per packet", func(s scaleSide) float64 { return s.uasUsPerPkt })
		spread(uas, "load µs per packet", func(s scaleSide) float64 { return s.loadUsPerPkt })
		spread(uas, "loss %", func(s scaleSide) float64 { return s.lossPct })
		spread(uas, "jitter p99 ms", func(s scaleSide) float64 { return s.jitterP99 })
		spread(uas, "pacer late p99 ms", func(s scaleSide) float64 { return s.lateP99 })
		spread(uas, "pacer late p99 ms with all calls up", func(s scaleSide) float64 { return s.steadyLateP99 })
		b.ReportMetric(med(uas, func(s scaleSide) float64 { return float64(s.answered) }), uas+"-answered")
		b.ReportMetric(med(uas, func(s scaleSide) float64 { return s.uasCPU }), uas+"-uas-cpu-%")
		b.ReportMetric(med(uas, func(s scaleSide) float64 { return s.loadCPU }), uas+"-load-cpu-%")
		b.ReportMetric(med(uas, func(s scaleSide) float64 { return s.uasRSS }), uas+"-uas-peak-MB")
		b.ReportMetric(med(uas, func(s scaleSide) float64 { return s.uasUsPerPkt }), uas+"-uas-µs/packet")
		b.ReportMetric(med(uas, func(s scaleSide) float64 { return s.loadUsPerPkt }), uas+"-load-µs/packet")
		b.ReportMetric(med(uas, func(s scaleSide) float64 { return s.setupP99 }), uas+"-setup-p99-ms")
		b.ReportMetric(med(uas, func(s scaleSide) float64 { return s.lossPct }), uas+"-loss-%")
		b.ReportMetric(med(uas, func(s scaleSide) float64 { return s.jitterP99 }), uas+"-jitter-p99-ms")
		if l := med(uas, func(s scaleSide) float64 { return s.lateP99 }); l >= 0 {
			b.ReportMetric(l, uas+"-load-late-p99-ms")
		}
		if l := med(uas, func(s scaleSide) float64 { return s.steadyLateP99 }); l >= 0 {
			b.ReportMetric(l, uas+"-load-steady-late-p99-ms")
		}
	}
	if c := med("sipp", func(s scaleSide) float64 { return s.uasCPU }); c > 0 {
		b.ReportMetric(med("dialtone", func(s scaleSide) float64 { return s.uasCPU })/c, "answer/sipp-cpu")
	}
	if c := med("sipp", func(s scaleSide) float64 { return s.uasUsPerPkt }); c > 0 {
		b.ReportMetric(med("dialtone", func(s scaleSide) float64 { return s.uasUsPerPkt })/c, "answer/sipp-µs-per-packet")
	}
}

func lateText(ms float64) string {
	if ms < 0 {
		return "(no shared pacer)"
	}
	return fmt.Sprintf("%.2f ms", ms)
}

// scaleRun starts the UAS, runs load against it and measures the window when every call is up.
func scaleRun(b *testing.B, uas, bin, sipp, scenario, tone string, n, rate int, hold time.Duration) scaleSide {
	ports := scaleFreePorts(b, 3) // sipp's media port (and +2), the SIP port, sipp's control port
	media, sip, ctl := ports[0], ports[1], ports[2]
	var u *scaleProc
	if uas == "dialtone" {
		u = scaleStart(b, "dialtone answer", bin, "answer", "--listen", "127.0.0.1:"+strconv.Itoa(sip), "--auto",
			"--count", strconv.Itoa(n), "--max-calls", strconv.Itoa(n), "--audio", "null", "--json")
	} else {
		u = scaleStart(b, "sipp", sipp, "-sf", scenario, "-t", "u1", "-i", "127.0.0.1", "-p", strconv.Itoa(sip),
			"-mi", "127.0.0.1", "-mp", strconv.Itoa(media), "-ci", "127.0.0.1", "-cp", strconv.Itoa(ctl),
			"-m", strconv.Itoa(n), "-rtp_echo", "-nostdin", "-trace_err")
	}
	scaleWaitUDP(b, sip, u)
	drops0 := udpRcvbufErrors()
	avg, _ := os.ReadFile("/proc/loadavg")
	ramp := time.Duration(float64(n) / float64(rate) * float64(time.Second))
	// Each call lasts past the moment the last one is placed by hold and a margin, so all N
	// overlap for the whole window [ramp+2 s, ramp+2 s+hold].
	callDur := ramp + hold + 4*time.Second
	start := time.Now()
	l := scaleStart(b, "dialtone load", bin, "load", fmt.Sprintf("sip:load@127.0.0.1:%d", sip), "--calls", strconv.Itoa(n),
		"--rate", strconv.Itoa(rate), "--duration", callDur.String(), "--play", tone, "--json")
	sleepOrExit := func(until time.Time) {
		select {
		case <-time.After(time.Until(until)):
		case <-l.done:
			b.Fatalf("load exited early\n%s", l.tail())
		case <-u.done:
			b.Fatalf("%s exited early\n%s", u.name, u.tail())
		}
	}
	sleepOrExit(start.Add(ramp + 2*time.Second))
	u0, l0, t0 := cpuOf(b, u.pid()), cpuOf(b, l.pid()), time.Now()
	sleepOrExit(t0.Add(hold))
	u1, l1, t1 := cpuOf(b, u.pid()), cpuOf(b, l.pid()), time.Now()
	uDrops, lDrops := udpDropsOf(u.pid()), udpDropsOf(l.pid())
	win := t1.Sub(t0)
	s := scaleSide{uas: uas, lateP99: -1, steadyLateP99: -1, uasDrops: uDrops, loadDrops: lDrops, loadavg: strings.Join(strings.Fields(string(avg))[:min(3, len(strings.Fields(string(avg))))], " "),
		uasCPU:  100 * float64(u1-u0) / float64(win),
		loadCPU: 100 * float64(l1-l0) / float64(win),
	}
	s.loadEx = l.wait(callDur + ramp + time.Minute)
	s.uasExit = u.wait(30 * time.Second)
	if d1 := udpRcvbufErrors(); drops0 >= 0 && d1 >= 0 {
		s.rcvbufDrops = d1 - drops0
	}
	uCPU, uRSS := u.usage()
	lCPU, lRSS := l.usage()
	s.uasRSS, s.loadRSS = uRSS, lRSS
	var uasPkts float64
	var sum map[string]any
	l.ndjson(func(m map[string]any) {
		if m["event"] == "summary" {
			sum = m
		}
	})
	if sum == nil {
		b.Fatalf("load printed no summary (exit %d)\n%s\n%s", s.loadEx, l.tail(), u.tail())
	}
	num := func(m map[string]any, k string) float64 { f, _ := m[k].(float64); return f }
	s.answered, s.failed, s.peak = int(num(sum, "answered")), int(num(sum, "failed")), int(num(sum, "peak_concurrent"))
	s.setupP50, s.setupP99 = num(sum, "setup_p50_ms"), num(sum, "setup_p99_ms")
	s.lossPct, s.netLossPct = num(sum, "loss_pct"), num(sum, "net_loss_pct")
	s.jitterP50, s.jitterP99, s.mosMin = num(sum, "jitter_p50_ms"), num(sum, "jitter_p99_ms"), num(sum, "mos_min")
	if p, ok := sum["pacer"].(map[string]any); ok {
		s.lateP99 = num(p, "late_p99_ms")
		if st, ok := p["steady"].(map[string]any); ok {
			s.steadyLateP99 = num(st, "late_p99_ms")
		}
	}
	if uas == "dialtone" {
		u.ndjson(func(m map[string]any) {
			if m["event"] == "stats" && m["final"] == true {
				s.uasRecv += num(m, "packets_received")
				uasPkts += num(m, "packets_received") + num(m, "packets_sent")
				s.uasLost += num(m, "lost")
				s.uasLate += num(m, "late")
			}
		})
	}
	if uas == "sipp" { // each packet load got back, sipp received and sent once
		uasPkts = 2 * num(sum, "packets_received")
	}
	if p := num(sum, "packets_sent") + num(sum, "packets_received"); p > 0 {
		s.loadUsPerPkt = float64(lCPU.Microseconds()) / p
	}
	if uasPkts > 0 {
		s.uasUsPerPkt = float64(uCPU.Microseconds()) / uasPkts
	}
	if s.failed > 0 || s.peak < n {
		b.Logf("%s side: %d of %d calls failed, peak %d at once\n%s", uas, s.failed, n, s.peak, slices.Concat([]byte(l.tail()), []byte(u.tail())))
	}
	return s
}

// scaleCounts is DIALTONE_SCALE_CALLS: one N or an increasing comma-separated list.
func scaleCounts(b *testing.B) []int {
	v := os.Getenv("DIALTONE_SCALE_CALLS")
	if v == "" {
		return []int{scaleCalls}
	}
	var ns []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || (len(ns) > 0 && n <= ns[len(ns)-1]) {
			b.Fatalf("DIALTONE_SCALE_CALLS=%q: want a positive integer or an increasing list such as 250,500,1000", v)
		}
		ns = append(ns, n)
	}
	return ns
}
