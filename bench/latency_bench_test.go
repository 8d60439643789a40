package bench

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// Click trains for the mouth-to-ear benchmark: one click every clickPeriod from clickLead on,
// so each recording's onsets pair up with the played ones without ambiguity while the delay
// stays under half a period.
const (
	clickRate   = 8000
	clickPeriod = 500 * time.Millisecond
	clickLead   = time.Second
	clickLength = 4 * time.Millisecond
	// baresipTunedJitter is the jitter buffer the interop harness gives baresip (one frame
	// at least, interop/peers/baresip.go), beside baresip's own default.
	baresipTunedJitter = "1-10"
	clickSeconds       = 11
	callSecs           = 12
	// onsetThreshold: the first sample whose magnitude reaches a tenth of full scale starts a
	// click; G.711 keeps that level within a few percent.
	onsetThreshold = 3277
	// onsetRefractory: after an onset, the rest of the click (and any ringing of the
	// concealment) is not another click.
	onsetRefractory = 200 * time.Millisecond
)

// BenchmarkMouthToEar plays a click train from a WAV file through a real call on loopback and
// finds every click's onset in the recording on the other side, with no impairment.
//
//   - dialtone ↔ dialtone: `dialtone call` to `dialtone answer`, each playing a train (the
//     answerer's shifted by a quarter period) and recording the other. Each process writes
//     its recording on the same 20 ms tick that reads its file, but the two processes' files
//     start at different instants; the sum of the two directions' file-to-file delays does not
//     depend on that offset, so half of it is the one-way mouth-to-ear delay.
//   - baresip: `dialtone call` to a baresip whose audio source is its own speaker (aubridge
//     device "echo"), so the clicks come back after baresip's jitter buffer, playout and
//     capture. The loop is dialtone → baresip → dialtone, so baresip's own one-way delay
//     (its receive plus its send half, as in a baresip ↔ baresip call) is the loop minus
//     dialtone's one-way delay measured in the same iteration. baresip runs twice: with the
//     interop harness's jitter_buffer_delay 1-10 and with its own default (5-10 frames).
//
// The per-click delays of the last iteration are plotted to $DIALTONE_BENCH_PLOTS/mouth-to-ear.svg
// when that directory is set (as the jitter benchmark does). DIALTONE_BENCH_BINS=name=path,...
// compares dialtone builds in the same run, as in BenchmarkJitterImpaired: each build's
// dialtone ↔ dialtone pair runs in every iteration; the first build is the one the baresip
// loop goes through (and the one plotted).
//
//	DIALTONE_BENCH_PLOTS=$PWD/docs/bench go test ./bench -run '^$' -bench MouthToEar -benchtime 5x -v
func BenchmarkMouthToEar(b *testing.B) {
	bsBin, err := exec.LookPath("baresip")
	if err != nil {
		b.Skip("baresip is not installed")
	}
	bsModules := findBaresipModules()
	if bsModules == "" {
		b.Skip("baresip modules (g711.so, aubridge.so) not found")
	}
	dir := b.TempDir()
	bins := impBinaries(b)
	dialtone := bins[0].path
	clicksA, clicksB := filepath.Join(dir, "a.wav"), filepath.Join(dir, "b.wav")
	if err := writeClicks(clicksA, 0); err != nil {
		b.Fatal(err)
	}
	if err := writeClicks(clicksB, clickPeriod/4); err != nil {
		b.Fatal(err)
	}
	var ours, loop, theirs, theirsDefault []float64
	var lastOurs, lastLoop []time.Duration
	others := map[string][]float64{} // one-way per iteration of the builds after the first
	for b.Loop() {
		for _, bin := range bins[1:] {
			ab, ba := dialtonePair(b, bin.path, clicksA, clicksB)
			ow := (latMedian(ab) + latMedian(ba)) / 2
			others[bin.name] = append(others[bin.name], latMS(ow))
			b.Logf("%s one-way %.1f ms (A→B+offset %.1f, B→A−offset %.1f; %d+%d clicks)", bin.name, latMS(ow), latMS(latMedian(ab)), latMS(latMedian(ba)), len(ab), len(ba))
		}
		ab, ba := dialtonePair(b, dialtone, clicksA, clicksB)
		oneWay := (latMedian(ab) + latMedian(ba)) / 2
		rt := baresipLoop(b, dialtone, bsBin, bsModules, clicksA, baresipTunedJitter)
		rtDefault := baresipLoop(b, dialtone, bsBin, bsModules, clicksA, "")
		bs, bsDefault := latMedian(rt)-oneWay, latMedian(rtDefault)-oneWay
		b.Logf("%s one-way %.1f ms (A→B+offset %.1f, B→A−offset %.1f; %d+%d clicks); via baresip (jitter_buffer_delay %s) %.1f ms (%d clicks): baresip one-way %.1f ms; via baresip (its default jitter buffer) %.1f ms (%d clicks): baresip one-way %.1f ms",
			bins[0].name, latMS(oneWay), latMS(latMedian(ab)), latMS(latMedian(ba)), len(ab), len(ba), baresipTunedJitter,
			latMS(latMedian(rt)), len(rt), latMS(bs), latMS(latMedian(rtDefault)), len(rtDefault), latMS(bsDefault))
		ours, loop, theirs = append(ours, latMS(oneWay)), append(loop, latMS(latMedian(rt))), append(theirs, latMS(bs))
		theirsDefault = append(theirsDefault, latMS(bsDefault))
		lastOurs = make([]time.Duration, 0, len(ab))
		off := (latMedian(ab) - latMedian(ba)) / 2 // the file offset, removed per click
		for _, d := range ab {
			lastOurs = append(lastOurs, d-off)
		}
		lastLoop = rt
	}
	b.ReportMetric(latMedianF(ours), "dialtone-one-way-ms")
	b.ReportMetric(latMedianF(loop), "loop-via-baresip-ms")
	b.ReportMetric(latMedianF(theirs), "baresip-one-way-ms")
	b.ReportMetric(latMedianF(ours)/latMedianF(theirs), "dialtone/baresip")
	b.ReportMetric(latMedianF(theirsDefault), "baresip-default-one-way-ms")
	b.ReportMetric(latMedianF(ours)/latMedianF(theirsDefault), "dialtone/baresip-default")
	for _, bin := range bins[1:] {
		ow := others[bin.name]
		b.ReportMetric(latMedianF(ow), bin.name+"-one-way-ms")
		b.Logf("over %d runs: %s one-way median %.1f ms (%.1f–%.1f), %.2f× baresip's default", len(ow), bin.name, latMedianF(ow), slices.Min(ow), slices.Max(ow), latMedianF(ow)/latMedianF(theirsDefault))
	}
	b.Logf("over %d runs: %s one-way median %.1f ms (%.1f–%.1f), baresip %.1f ms (%.1f–%.1f), baresip with its default jitter buffer %.1f ms (%.1f–%.1f)",
		len(ours), bins[0].name, latMedianF(ours), slices.Min(ours), slices.Max(ours), latMedianF(theirs), slices.Min(theirs), slices.Max(theirs),
		latMedianF(theirsDefault), slices.Min(theirsDefault), slices.Max(theirsDefault))
	if dir := os.Getenv("DIALTONE_BENCH_PLOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(dir, "mouth-to-ear.svg")
		if err := writeLatencySVG(path, lastOurs, lastLoop, latMedianF(ours)-latMedianF(loop)); err != nil {
			b.Fatal(err)
		}
	}
}

// dialtonePair runs one call between two dialtones and returns the per-click file-to-file
// delays of each direction (each off by the same unknown file offset, with opposite signs).
func dialtonePair(b *testing.B, bin, clicksA, clicksB string) (ab, ba []time.Duration) {
	dir := b.TempDir()
	recA, recB := filepath.Join(dir, "recA.wav"), filepath.Join(dir, "recB.wav")
	answer, stdout := latStart(b, false, bin, "answer", "--listen", "127.0.0.1:0", "--auto", "--count", "1", "--json",
		"--play", clicksB, "--record", recB, "--config", "/dev/null", "--data-dir", b.TempDir())
	addr := latWaitListening(b, stdout)
	// G.711, as baresip's build here has nothing else (and clickFileDelays reads 8 kHz): left
	// to themselves two dialtones would talk Opus at 48 kHz.
	call := exec.Command(bin, "call", "sip:bob@"+addr, "--codecs", "PCMU", "--play", clicksA, "--record", recA,
		"--duration", fmt.Sprint(callSecs, "s"), "--config", "/dev/null", "--data-dir", b.TempDir())
	if out, err := call.CombinedOutput(); err != nil {
		b.Fatalf("dialtone call: %v\n%s", err, out)
	}
	answer.wait(b, 10*time.Second)
	return clickFileDelays(b, clicksA, recB), clickFileDelays(b, clicksB, recA)
}

// baresipLoop calls a baresip that sends back what it plays and returns the per-click delay
// from dialtone's file to dialtone's recording.
// jitterDelay is baresip's jitter_buffer_delay in frames ("1-10"); "" leaves baresip 1.0's
// default (5-10 frames).
func baresipLoop(b *testing.B, bin, bsBin, modules, clicks, jitterDelay string) []time.Duration {
	dir := b.TempDir()
	port := taFreePort(b)
	rtp := 30000 + 2*(port%4000)
	cfg := fmt.Sprintf(`poll_method	epoll
sip_listen	127.0.0.1:%d
audio_player	aubridge,echo
audio_alert	aubridge,alert
audio_source	aubridge,echo
ausrc_srate	8000
ausrc_channels	1
audio_level	no
rtp_ports	%d-%d
rtcp_mux	no
net_interface	127.0.0.1
dns_server	127.0.0.1:53
module_path	%s
module	g711.so
module	aubridge.so
module_tmp	account.so
`, port, rtp, rtp+99, modules)
	if jitterDelay != "" {
		cfg += "jitter_buffer_delay\t" + jitterDelay + "\n"
	}
	files := map[string]string{
		"config":   cfg,
		"accounts": fmt.Sprintf("<sip:echo@127.0.0.1:%d>;regint=0;answermode=auto\n", port),
		"contacts": "",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	bs, _ := latStart(b, true, bsBin, "-f", dir)
	latWaitUDP(b, port, bs)
	rec := filepath.Join(dir, "rec.wav")
	call := exec.Command(bin, "call", fmt.Sprintf("sip:echo@127.0.0.1:%d", port), "--play", clicks, "--record", rec,
		"--duration", fmt.Sprint(callSecs, "s"), "--config", "/dev/null", "--data-dir", b.TempDir())
	if out, err := call.CombinedOutput(); err != nil {
		b.Fatalf("dialtone call to baresip: %v\n%s\n--- baresip ---\n%s", err, out, bs.log())
	}
	bs.stop()
	return clickFileDelays(b, clicks, rec)
}

// latProc is a process started by the benchmark and stopped (whole group) at cleanup.
type latProc struct {
	cmd     *exec.Cmd
	done    chan struct{}
	logPath string
}

// latStart starts bin; drain says nobody reads its standard output (baresip's console), so
// latStart drains it, else the caller reads it from the scanner (dialtone's NDJSON). Told, not
// guessed from the binary's name: a dialtone built elsewhere (DIALTONE_BENCH_BINS) had its
// output drained here and raced with the reader, which never saw "listening".
func latStart(b *testing.B, drain bool, bin string, args ...string) (*latProc, *bufio.Scanner) {
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &latProc{cmd: cmd, done: make(chan struct{}), logPath: filepath.Join(b.TempDir(), "stderr.log")}
	errf, err := os.Create(p.logPath)
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = errf
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", bin, err)
	}
	sc := bufio.NewScanner(out)
	go func() {
		if drain {
			for sc.Scan() {
			}
		}
		_ = cmd.Wait()
		errf.Close()
		close(p.done)
	}()
	b.Cleanup(p.stop)
	return p, sc
}

func (p *latProc) stop() {
	stopGroup(p.cmd, p.done, 3*time.Second)
}

func (p *latProc) wait(b *testing.B, d time.Duration) {
	select {
	case <-p.done:
	case <-time.After(d):
		b.Fatalf("%s still running after %v:\n%s", p.cmd.Path, d, p.log())
	}
}

func (p *latProc) log() string {
	raw, _ := os.ReadFile(p.logPath)
	return string(raw)
}

// waitListening reads dialtone's NDJSON until the "listening" event and returns its address;
// the rest of the output is drained in the background.
func latWaitListening(b *testing.B, sc *bufio.Scanner) string {
	addr := make(chan string, 1)
	go func() {
		sent := false
		for sc.Scan() {
			var ev struct{ Event, Addr string }
			if !sent && json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Event == "listening" {
				addr <- ev.Addr
				sent = true
			}
		}
		if !sent {
			close(addr)
		}
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			b.Fatal("dialtone answer exited before listening")
		}
		return a
	case <-time.After(10 * time.Second):
		b.Fatal("dialtone answer did not print listening within 10s")
	}
	return ""
}

// waitUDP waits until something holds UDP port on 127.0.0.1.
func latWaitUDP(b *testing.B, port int, p *latProc) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !latUDPFree(port) {
			return
		}
		select {
		case <-p.done:
			b.Fatalf("%s exited:\n%s", p.cmd.Path, p.log())
		default:
		}
	}
	b.Fatalf("nothing listens on UDP %d after 10s", port)
}

func findBaresipModules() string {
	for _, d := range []string{"/usr/lib/baresip/modules", "/usr/lib/x86_64-linux-gnu/baresip/modules", "/usr/local/lib/baresip/modules"} {
		if _, err := os.Stat(filepath.Join(d, "aubridge.so")); err == nil {
			return d
		}
	}
	return ""
}

func latMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func latMedian(d []time.Duration) time.Duration { return taPercentile(d, 50) }

func latMedianF(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s) == 0 {
		return math.NaN()
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// writeClicks writes an 8 kHz mono 16-bit WAV of clickSeconds: silence with a click (a
// clickLength burst of a 1 kHz cosine, 0.7 of full scale, so its first sample is already at the
// peak and the onset is sharp) every clickPeriod from clickLead+shift on.
func writeClicks(path string, shift time.Duration) error {
	n := clickRate * clickSeconds
	pcm := make([]int16, n)
	burst := int(clickLength.Seconds() * clickRate)
	for t := clickLead + shift; t < time.Duration(clickSeconds)*time.Second-clickPeriod; t += clickPeriod {
		at := int(t.Seconds() * clickRate)
		for i := range burst {
			pcm[at+i] = int16(23000 * math.Cos(2*math.Pi*1000*float64(i)/clickRate))
		}
	}
	return latWriteWAV(path, pcm)
}

func latWriteWAV(path string, pcm []int16) error {
	hdr := make([]byte, 44)
	copy(hdr[0:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(36+2*len(pcm)))
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], 1)
	binary.LittleEndian.PutUint16(hdr[22:], 1)
	binary.LittleEndian.PutUint32(hdr[24:], clickRate)
	binary.LittleEndian.PutUint32(hdr[28:], 2*clickRate)
	binary.LittleEndian.PutUint16(hdr[32:], 2)
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], uint32(2*len(pcm)))
	buf := make([]byte, 2*len(pcm))
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(buf[2*i:], uint16(s))
	}
	return os.WriteFile(path, append(hdr, buf...), 0o644)
}
