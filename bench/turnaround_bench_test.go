package bench

import (
	"bufio"
	"context"
	"fmt"
	"net"
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

// Turnaround load: sipp calls at a fixed rate, every call answered and hung up at once.
const (
	turnaroundCalls = 100
	turnaroundRate  = 20 // calls per second
	// turnaroundRounds: each iteration calls every UAS in turn, turnaroundCalls/turnaroundRounds
	// calls at a time (a new process each time), so a change in the machine's load (this
	// machine is shared) falls on all of them alike rather than on whichever ran its 100 calls
	// then.
	turnaroundRounds = 5
	// taMaxCalls is dialtone's --max-calls: a call is over for sipp (-l 1) once its BYE is
	// answered, but dialtone ends it after writing the call history, and a disk stall on
	// this shared machine let 4 (the default) pile up: the next INVITE got 486.
	taMaxCalls = 16
	// taWarmup calls open each UAS process and are not counted.
	taWarmup = 5
)

// BenchmarkAnswerTurnaround measures INVITE → 200 OK as seen by a sipp caller
// (testdata/uac_turnaround.xml, turnaroundRate calls/s) against four UASes on loopback, one
// after another in each iteration: `dialtone answer --auto --audio null`, a bare sipgo UAS
// (cmd/bareuas: the SIP stack dialtone is built on, doing nothing else), the same with
// -negotiate ("sipgo+sdp": the offer read and answered in a sipgo dialog, the least any UAS
// that answers the offer does) and sipp's own UAS (the uas_echo scenario). Times come from
// sipp's message trace (µs stamps), so every UAS is timed by the same clock and the same
// caller. Reported: median and p95 over all calls of all iterations, and dialtone's median as
// a ratio of the others'.
//
//	go test ./bench -run '^$' -bench AnswerTurnaround -benchtime 5x -v
//	DIALTONE_TURNAROUND_BASELINE=<git rev or binary> go test ...   # adds that dialtone, same run
func BenchmarkAnswerTurnaround(b *testing.B) {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		b.Skip("sipp is not installed")
	}
	dir := b.TempDir()
	dialtone := filepath.Join(dir, "dialtone")
	bare := filepath.Join(dir, "bareuas")
	for bin, pkg := range map[string]string{dialtone: "../cmd/dialtone", bare: "./cmd/bareuas"} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			b.Fatalf("build %s: %v\n%s", pkg, err, out)
		}
	}
	scenario, err := filepath.Abs("testdata/uac_turnaround.xml")
	if err != nil {
		b.Fatal(err)
	}
	// taUAS is a UAS under test; start returns once it listens, for calls calls.
	type taUAS struct {
		name  string
		start func(b *testing.B, port, calls int)
	}
	answerer := func(bin string) func(b *testing.B, port, calls int) { // dialtone, this build or another
		return func(b *testing.B, port, calls int) {
			taStartUAS(b, port, bin, "answer", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--auto",
				"--count", strconv.Itoa(calls), "--max-calls", strconv.Itoa(taMaxCalls), "--audio", "null", "--data-dir", b.TempDir(), "--config", "/dev/null")
		}
	}
	uases := []taUAS{
		{"dialtone", answerer(dialtone)},
		{"sipgo", func(b *testing.B, port, calls int) {
			taStartUAS(b, port, bare, "-listen", fmt.Sprintf("127.0.0.1:%d", port), "-count", strconv.Itoa(calls))
		}},
		{"sipgo+sdp", func(b *testing.B, port, calls int) {
			taStartUAS(b, port, bare, "-negotiate", "-listen", fmt.Sprintf("127.0.0.1:%d", port), "-count", strconv.Itoa(calls))
		}},
		{"sipp", nil},
	}
	if rev := os.Getenv("DIALTONE_TURNAROUND_BASELINE"); rev != "" {
		uases = append(uases, taUAS{"baseline", answerer(baselineBin(b, rev))})
	}
	samples := map[string][]time.Duration{}
	perRound := turnaroundCalls / turnaroundRounds
	for b.Loop() {
		this := map[string][]time.Duration{}
		for range turnaroundRounds {
			// A fresh process of each UAS every round: a process tends to stay fast (~100 µs)
			// or slow (~400 µs) for all its calls, whichever it is (the vCPUs it lands on and
			// how deeply they sleep between calls), so the figure is the median over many
			// processes rather than the luck of one. Each takes taWarmup calls more than are
			// counted: its first calls pay for loading the process's code and filling its
			// caches (dialtone's first is ~2 ms, its 2nd-5th ~+30 %), which a UAS that answers
			// at a steady rate has long paid.
			for _, u := range uases {
				var target string
				if u.start == nil {
					target = peers.StartSippUAS(b, peers.SippOptions{Scenario: "uas_echo", Calls: perRound + taWarmup}).HostPort()
				} else {
					port := taFreePort(b)
					u.start(b, port, perRound+taWarmup)
					target = fmt.Sprintf("127.0.0.1:%d", port)
				}
				this[u.name] = append(this[u.name], runSippCaller(b, sipp, scenario, target, perRound+taWarmup)[taWarmup:]...)
			}
		}
		for _, u := range uases {
			d := this[u.name]
			b.Logf("%-9s %d calls: p25 %v median %v p95 %v", u.name, len(d), taPercentile(d, 25), taPercentile(d, 50), taPercentile(d, 95))
			samples[u.name] = append(samples[u.name], d...)
		}
	}
	for _, u := range uases {
		d := samples[u.name]
		b.ReportMetric(float64(taPercentile(d, 25).Microseconds()), u.name+"-p25-µs")
		b.ReportMetric(float64(taPercentile(d, 50).Microseconds()), u.name+"-median-µs")
		b.ReportMetric(float64(taPercentile(d, 95).Microseconds()), u.name+"-p95-µs")
	}
	ours := float64(taPercentile(samples["dialtone"], 50))
	b.ReportMetric(ours/float64(taPercentile(samples["sipgo"], 50)), "dialtone/sipgo")
	b.ReportMetric(ours/float64(taPercentile(samples["sipp"], 50)), "dialtone/sipp")
	b.ReportMetric(ours/float64(taPercentile(samples["sipgo+sdp"], 50)), "dialtone/sipgo+sdp")
	b.ReportMetric(float64(taPercentile(samples["sipgo+sdp"], 50))/float64(taPercentile(samples["sipgo"], 50)), "sipgo+sdp/sipgo")
	if base := samples["baseline"]; len(base) > 0 {
		b.ReportMetric(ours/float64(taPercentile(base, 50)), "dialtone/baseline")
	}
}

// startUAS runs a UAS in its own process group until the benchmark ends and waits until it
// holds UDP port on 127.0.0.1.
func taStartUAS(b *testing.B, port int, bin string, args ...string) {
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logf, err := os.Create(filepath.Join(b.TempDir(), "uas.log"))
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	b.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return // taken: the UAS listens
		}
		c.Close()
		select {
		case <-done:
			raw, _ := os.ReadFile(logf.Name())
			b.Fatalf("%s exited before listening:\n%s", bin, raw)
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s does not listen on %d after 10s", bin, port)
		}
	}
}

// freeUDPPort is a UDP port on 127.0.0.1 that was free a moment ago.
func taFreePort(b *testing.B) int {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// runSippCaller places calls calls at turnaroundRate to target with sipp and returns
// each call's INVITE → 200 OK time from sipp's message trace. One call at a time (-l 1): a
// second call answered while the first is up would put the first on hold (dialtone's call
// waiting), and its re-INVITE would fail sipp's scenario.
func runSippCaller(b *testing.B, sipp, scenario, target string, calls int) []time.Duration {
	dir := b.TempDir()
	trace := filepath.Join(dir, "msg.log")
	// sipp binds four media ports from -mp (audio and video, RTP and RTCP) that were free a
	// moment ago; a start that lost one of them to another process is tried again.
	for attempt := 1; ; attempt++ {
		out, err := sippCall(sipp, dir, scenario, target, trace, calls)
		if err == nil {
			break
		}
		unexpected, _ := os.ReadFile(filepath.Join(dir, "err.log"))
		if attempt < 3 && strings.Contains(string(unexpected), "Address already in use") {
			_ = os.Remove(trace)
			continue
		}
		b.Fatalf("sipp caller to %s: %v\n%s\n--- unexpected messages ---\n%s", target, err, taTail(string(out), 1500), taTail(string(unexpected), 4000))
	}
	d, err := inviteTurnarounds(trace)
	if err != nil {
		b.Fatal(err)
	}
	if len(d) != calls {
		b.Fatalf("sipp trace has %d answered INVITEs, want %d", len(d), calls)
	}
	return d
}

// sippCall runs one sipp caller in dir, at most two minutes.
func sippCall(sipp, dir, scenario, target, trace string, calls int) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mp, err := freeUDPRun(4)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, sipp, "-sf", scenario, "-s", "bench", "-t", "u1",
		"-i", "127.0.0.1", "-p", strconv.Itoa(mp+4), "-mi", "127.0.0.1", "-mp", strconv.Itoa(mp),
		"-r", strconv.Itoa(turnaroundRate), "-l", "1", "-m", strconv.Itoa(calls), "-nostdin",
		"-trace_msg", "-message_file", trace, "-trace_err", "-error_file", filepath.Join(dir, "err.log"), target)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd.CombinedOutput()
}

// freeUDPRun is an even port p on 127.0.0.1 such that p … p+n (n+1 ports) were all free a
// moment ago. Bounded: 200 tries.
func freeUDPRun(n int) (int, error) {
	for range 200 {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		base := c.LocalAddr().(*net.UDPAddr).Port &^ 1
		c.Close()
		ok := true
		var held []net.PacketConn
		for i := 0; i <= n && ok; i++ {
			h, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", base+i))
			if err != nil {
				ok = false
				break
			}
			held = append(held, h)
		}
		for _, h := range held {
			h.Close()
		}
		if ok && base+n < 65536 {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no run of %d free UDP ports", n+1)
}

// inviteTurnarounds reads a sipp -trace_msg file and returns, per Call-ID, the time from the
// first INVITE sent to the first 200 OK received for it.
func inviteTurnarounds(path string) ([]time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sipp trace: %w", err)
	}
	defer f.Close()
	const sep = "----------------------------------------------- "
	sent := map[string]time.Time{}
	var out []time.Duration
	var (
		stamp      time.Time
		dir, first string
		inMessage  bool
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if ts, ok := strings.CutPrefix(line, sep); ok {
			stamp, err = time.ParseInLocation("2006-01-02 15:04:05.000000", strings.ReplaceAll(ts, "\t", " "), time.Local)
			if err != nil {
				return nil, fmt.Errorf("sipp trace stamp %q: %w", ts, err)
			}
			dir, first, inMessage = "", "", false
			continue
		}
		switch {
		case dir == "" && strings.HasPrefix(line, "UDP message sent"):
			dir = "sent"
		case dir == "" && strings.HasPrefix(line, "UDP message received"):
			dir = "received"
		case dir != "" && first == "" && line != "":
			first, inMessage = line, true
		case inMessage && strings.HasPrefix(strings.ToLower(line), "call-id:"):
			id := strings.TrimSpace(line[len("call-id:"):])
			switch {
			case dir == "sent" && strings.HasPrefix(first, "INVITE "):
				if _, ok := sent[id]; !ok {
					sent[id] = stamp
				}
			case dir == "received" && strings.HasPrefix(first, "SIP/2.0 200"):
				if t0, ok := sent[id]; ok {
					out = append(out, stamp.Sub(t0))
					delete(sent, id) // the 200 to BYE, or a retransmission, is not counted
				}
			}
			inMessage = false
		}
	}
	return out, sc.Err()
}

// percentile is the p-th percentile (nearest rank) of d.
func taPercentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}

func taTail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
