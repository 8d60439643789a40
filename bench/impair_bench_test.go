package bench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// impSeconds is the length of each impaired stream.
const impSeconds = 20

// BenchmarkJitterImpaired sends one seeded impaired RTP stream (20 ms + 0–40 ms jitter,
// Gilbert–Elliott loss of about 3 % in bursts, 1 % duplicates, the reordering the jitter
// causes) to dialtone and to baresip at the same time, both auto-answering and recording
// what they play, and measures per receiver: how much later than the fastest possible
// arrival each frame played (median, p95), frames missing at playout, late loss (arrived
// but never played), frames played wrong (a sample-exact replay or out of order) and blocks
// inside the stream left silent. Each iteration is a new seed; -benchtime 5x gives five runs.
//
// DIALTONE_BENCH_BINS=name=path,name=path compares several dialtone builds in the same run
// (each its own "dialtone answer" on the same stream); by default the tree's build is used.
// DIALTONE_BENCH_PLOTS=DIR writes the last run's delay-over-time plot and CDF there as SVG.
//
//	go test ./bench -run '^$' -bench JitterImpaired -benchtime 5x -v
func BenchmarkJitterImpaired(b *testing.B) {
	bins := impBinaries(b)
	users := map[string]string{}
	for i := range bins {
		users[fmt.Sprintf("rx%d", i)] = fmt.Sprintf("rx%d-secret", i)
	}
	k := peers.StartKamailio(b, peers.KamailioOptions{Users: users})
	carol := peers.StartBaresip(b, peers.BaresipOptions{User: "carol", AutoAnswer: true})
	frames := impSeconds * 1000 / int(impFrame/time.Millisecond)
	pcm := codedFrames(frames)
	all := map[string][]impResult{}
	var names []string
	seed := uint64(0)
	for b.Loop() {
		seed++
		im := newImpairment(seed, frames)
		res := impairedRun(b, bins, k, carol, im, pcm)
		for _, r := range res {
			if _, ok := all[r.name]; !ok {
				names = append(names, r.name)
			}
			all[r.name] = append(all[r.name], r)
			b.Logf("seed %d %s: added delay median %.1f ms p95 %.1f ms (p95 jitter %.1f ms), wait after arrival median %.1f ms p95 %.1f ms, missing %.2f %%, late %.2f %%, wrong %.2f %%, silent blocks %d, concealed %d",
				seed, r.name, r.addedMedian, r.addedP95, r.jitterP95, r.delayMedian, r.delayP95, r.missing, r.late, r.wrong, r.silent, r.concealed)
		}
		if dir := os.Getenv("DIALTONE_BENCH_PLOTS"); dir != "" {
			if err := writePlots(dir, res); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, name := range names {
		rs := all[name]
		b.ReportMetric(impMedianOf(rs, func(r impResult) float64 { return r.addedMedian }), name+"-added-median-ms")
		b.ReportMetric(impMedianOf(rs, func(r impResult) float64 { return r.addedP95 }), name+"-added-p95-ms")
		b.ReportMetric(impMedianOf(rs, func(r impResult) float64 { return r.missing }), name+"-missing-%")
		b.ReportMetric(impMedianOf(rs, func(r impResult) float64 { return r.late }), name+"-late-%")
		b.ReportMetric(impMedianOf(rs, func(r impResult) float64 { return r.wrong }), name+"-wrong-%")
		b.ReportMetric(impMedianOf(rs, func(r impResult) float64 { return float64(r.silent) }), name+"-silent-blocks")
	}
	b.ReportMetric(impMedianOf(all["baresip"], func(r impResult) float64 { return r.jitterP95 }), "net-jitter-p95-ms")
}

type impBin struct{ name, path string }

// impBinaries are the dialtone builds to measure: DIALTONE_BENCH_BINS, or the tree's.
func impBinaries(b *testing.B) []impBin {
	var bins []impBin
	if env := os.Getenv("DIALTONE_BENCH_BINS"); env != "" {
		for _, kv := range strings.Split(env, ",") {
			name, path, ok := strings.Cut(kv, "=")
			if !ok {
				b.Fatalf("DIALTONE_BENCH_BINS: %q is not name=path", kv)
			}
			bins = append(bins, impBin{name, path})
		}
		return bins
	}
	bin := filepath.Join(b.TempDir(), "dialtone")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/dialtone").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	return []impBin{{"dialtone", bin}}
}

// impAnswer is one running "dialtone answer --count 1" recording to rec.
type impAnswer struct {
	name, rec string
	port      int
	stderr    *strings.Builder
	exited    chan struct{}
}

func startAnswer(ctx context.Context, b *testing.B, bin impBin, user, password, registrar string) *impAnswer {
	dir := b.TempDir()
	a := &impAnswer{name: bin.name, rec: filepath.Join(dir, "rx.wav"), port: impFreePort(b), stderr: &strings.Builder{}, exited: make(chan struct{})}
	cmd := exec.CommandContext(ctx, bin.path, "answer", "--auto", "--count", "1", "--json", "--audio", "null",
		"--record", a.rec, "--aor", "sip:"+user+"@127.0.0.1", "--registrar", "sip:"+registrar,
		"--listen", fmt.Sprintf("127.0.0.1:%d", a.port))
	cmd.Env = append(os.Environ(), "DIALTONE_PASSWORD="+password, "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir)
	cmd.Stderr = a.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	registered := make(chan struct{})
	var waitErr error
	go func() {
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"registered"`) {
				once.Do(func() { close(registered) })
			}
		}
		waitErr = cmd.Wait()
		close(a.exited)
	}()
	b.Cleanup(func() { <-a.exited }) // ctx's cancel kills it first
	select {
	case <-registered:
	case <-a.exited:
		b.Fatalf("%s answer exited before registering: %v\n%s", bin.name, waitErr, a.stderr.String())
	case <-time.After(15 * time.Second):
		b.Fatalf("%s answer did not register\n%s", bin.name, a.stderr.String())
	}
	return a
}

// impairedRun is one seed: fresh dialtone answers, the stream to all and to baresip, the analysis.
func impairedRun(b *testing.B, bins []impBin, k *peers.Kamailio, carol *peers.Baresip, im *impairment, pcm [][]int16) []impResult {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var answers []*impAnswer
	var dsts []*uac
	for i, bin := range bins {
		user := fmt.Sprintf("rx%d", i)
		a := startAnswer(ctx, b, bin, user, user+"-secret", k.HostPort("udp"))
		answers = append(answers, a)
		u, err := dialUAC(ctx, fmt.Sprintf("sip:%s@127.0.0.1:%d", user, a.port), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: a.port})
		if err != nil {
			b.Fatalf("%v\n%s", err, a.stderr.String())
		}
		defer u.close()
		dsts = append(dsts, u)
	}
	before, _ := carol.Recordings()
	cu, err := dialUAC(ctx, fmt.Sprintf("sip:carol@127.0.0.1:%d", carol.SIPPort()), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: carol.SIPPort()})
	if err != nil {
		b.Fatalf("%v\n%s", err, carol.Log())
	}
	defer cu.close()
	dsts = append(dsts, cu)

	start := time.Now()
	wctx, wcancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	globs := []string{}
	for _, a := range answers {
		globs = append(globs, a.rec)
	}
	globs = append(globs, filepath.Join(carol.RecordingDir(), "*-dec.wav"))
	grow := make([][]impGrowth, len(globs))
	for i, glob := range globs {
		wg.Go(func() { grow[i] = watchGrowth(wctx, start, glob) })
	}
	actual, err := sendImpaired(ctx, im, pcm, dsts)
	time.Sleep(time.Second) // let the buffers play out
	wcancel()
	wg.Wait()
	if err != nil {
		b.Fatal(err)
	}
	for _, u := range dsts {
		if err := u.bye(ctx); err != nil {
			b.Fatalf("bye: %v", err)
		}
	}
	for _, a := range answers {
		select {
		case <-a.exited:
		case <-time.After(10 * time.Second):
			b.Fatalf("%s answer did not exit after BYE\n%s", a.name, a.stderr.String())
		}
	}
	if _, err := carol.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		b.Fatal(err)
	}
	recs, err := carol.Recordings()
	if err != nil || len(recs) == 0 || len(recs) == len(before) && recs[len(recs)-1] == before[len(before)-1] {
		b.Fatalf("baresip recording: %v %v", recs, err)
	}
	arr := arrivals(im, actual)
	paths := append(globs[:len(answers):len(answers)], recs[len(recs)-1])
	var res []impResult
	for i, path := range paths {
		name := "baresip"
		if i < len(answers) {
			name = answers[i].name
		}
		r, err := measure(name, path, grow[i], im, arr, pcm)
		if err != nil {
			b.Fatal(err)
		}
		res = append(res, r)
	}
	return res
}

func impFreePort(b *testing.B) int {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func impMedianOf(rs []impResult, f func(impResult) float64) float64 {
	if len(rs) == 0 {
		return 0
	}
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	sort.Float64s(v)
	return v[len(v)/2]
}
