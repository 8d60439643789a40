package main

import (
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/quality"
)

// load's MOS is phone/quality's E-model (tested against G.107/G.113 figures there) fed with
// the call's codec, loss and delay: a clean G.711 call with no RTT is rated at 40 ms (a 20 ms
// buffer floor and one frame), and the figure falls with loss, delay and a weaker codec.
func TestMOSEstimate(t *testing.T) {
	clean := quality.Estimate(quality.Input{Codec: quality.G711, DelayMs: 40}).MOS
	if got := mosEstimate(0, "PCMU", nil); math.Abs(got-clean) > 1e-9 {
		t.Errorf("clean PCMU call: MOS %.4f, want %.4f", got, clean)
	}
	if got := mosEstimate(0, "PCMU", &phone.StreamStats{RTT: 200 * time.Millisecond, Jitter: 30 * time.Millisecond}); math.Abs(got-quality.Estimate(quality.Input{Codec: quality.G711, DelayMs: 100 + 60 + 20}).MOS) > 1e-9 {
		t.Errorf("PCMU with RTT 200 ms, jitter 30 ms: MOS %.4f, not the E-model's at 180 ms", got)
	}
	if a, b := mosEstimate(0, "PCMU", nil), mosEstimate(2, "PCMU", nil); !(a > b) {
		t.Errorf("MOS does not fall with loss: %.3f at 0 %%, %.3f at 2 %%", a, b)
	}
	if a, b := mosEstimate(0, "PCMU", nil), mosEstimate(0, "PCMU", &phone.StreamStats{RTT: 600 * time.Millisecond}); !(a > b) {
		t.Errorf("MOS does not fall with delay: %.3f, %.3f at RTT 600 ms", a, b)
	}
}

func TestPercentileNearestRank(t *testing.T) {
	v := make([]float64, 100)
	for i := range v {
		v[i] = float64(i + 1)
	}
	for p, want := range map[float64]float64{0: 1, 50: 50, 95: 95, 99: 99, 100: 100} {
		if got := pct(v, p); got != want {
			t.Errorf("p%g of 1..100 = %g, want %g", p, got, want)
		}
	}
	if pct(nil, 50) != 0 || pct([]float64{7}, 99) != 7 {
		t.Error("percentiles of no value or one value")
	}
}

func TestSummariseCountsFailuresAndLoss(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ok := func(setup time.Duration, lost uint64) *loadCall {
		c := &loadCall{}
		finishLoadCall(c, phone.CallStatus{Started: t0, Answered: t0.Add(setup), Ended: t0.Add(setup + 10*time.Second), By: "local"},
			&phone.StreamStats{PacketsSent: 500, PacketsReceived: 500 - lost, Lost: lost, Jitter: time.Millisecond})
		return c
	}
	busy := &loadCall{}
	finishLoadCall(busy, phone.CallStatus{Started: t0, Ended: t0, Code: 486, Reason: "Busy Here", Failure: phone.FailureBusy}, nil)
	calls := []*loadCall{ok(10*time.Millisecond, 0), ok(30*time.Millisecond, 10), busy}
	s := summarise(calls, 1)
	if s.Attempted != 3 || s.Answered != 2 || s.Failed != 1 || s.Codes["200"] != 2 || s.Codes["486"] != 1 {
		t.Fatalf("summary %+v", s)
	}
	if s.OverLoss != 1 || s.LossMaxPct != 2 || s.Lost != 10 || s.NetLost != 10 {
		t.Fatalf("loss: %d over, worst %g %%, %d lost (%d never arrived); want 1, 2 %%, 10 and 10", s.OverLoss, s.LossMaxPct, s.Lost, s.NetLost)
	}
	late := &loadCall{}
	finishLoadCall(late, phone.CallStatus{Started: t0, Answered: t0, Ended: t0.Add(time.Second)},
		&phone.StreamStats{PacketsSent: 50, PacketsReceived: 50, Lost: 1, Late: 1})
	if late.NetLost != 0 || late.NetLossPct != 0 || late.LossPct != 2 {
		t.Fatalf("a late packet: %d never arrived (%g %%), %g %% lost at playout; want 0, 0 %%, 2 %%", late.NetLost, late.NetLossPct, late.LossPct)
	}
	if s.SetupP50 != 10 || s.SetupP99 != 30 {
		t.Fatalf("setup p50 %g p99 %g, want 10 and 30", s.SetupP50, s.SetupP99)
	}
	cancelled := &loadCall{Cancelled: true}
	finishLoadCall(cancelled, phone.CallStatus{Started: t0, Ended: t0, Reason: "cancelled", By: "local", Failure: phone.FailureNoAnswer}, nil)
	if s := summarise(append(calls, cancelled), 1); s.Failed != 1 || s.Cancelled != 1 || s.Attempted != 4 {
		t.Fatalf("a call cancelled by Ctrl-C: %d failed, %d cancelled of %d; want 1, 1 of 4", s.Failed, s.Cancelled, s.Attempted)
	}
	if busy.MOS != 0 || busy.SetupMs != nil || calls[0].MOS < 4.3 {
		t.Fatalf("MOS %g for a busy call (want none), %g for a clean one", busy.MOS, calls[0].MOS)
	}
}

func TestLoadSourceLoopsAndEnds(t *testing.T) {
	a := &loadAudio{samples: make([]int16, 400)} // 2.5 frames
	for i := range a.samples {
		a.samples[i] = int16(i + 1)
	}
	frame := make([]int16, 160)
	looped := a.source(true)
	for range 5 {
		if err := looped.Read(frame); err != nil {
			t.Fatal(err)
		}
	}
	// 5 frames = 800 samples = two whole passes: the next frame starts at the beginning again.
	if err := looped.Read(frame); err != nil || frame[0] != 1 {
		t.Fatalf("looped source: frame starts at %d (%v), want 1", frame[0], err)
	}
	once := a.source(false)
	for i := range 3 {
		if err := once.Read(frame); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if frame[79] != 400 || frame[80] != 0 {
		t.Fatalf("last frame: %d then %d, want the last sample 400 then silence", frame[79], frame[80])
	}
	if err := once.Read(frame); err != io.EOF {
		t.Fatalf("after the file: %v, want io.EOF", err)
	}
	if testing.AllocsPerRun(100, func() { _ = looped.Read(frame) }) != 0 {
		t.Error("a looped frame allocates")
	}
}

func TestReadLoadAudioResamples(t *testing.T) {
	if _, err := exec.LookPath("sox"); err != nil {
		t.Skip("sox is not installed (make test installs it)")
	}
	path := filepath.Join(t.TempDir(), "t.wav")
	if out, err := exec.Command("sox", "-n", "-r", "44100", "-c", "2", "-b", "16", path, "synth", "1", "sine", "440").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v %s", err, out)
	}
	a, err := readLoadAudio(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(a.samples); n != 8000 {
		t.Fatalf("1 s at 44.1 kHz stereo became %d samples, want 8000 (8 kHz mono)", n)
	}
	empty := filepath.Join(t.TempDir(), "empty.wav")
	if err := os.WriteFile(empty, []byte("RIFF"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readLoadAudio(empty); err == nil {
		t.Fatal("a broken WAV was accepted")
	}
}

func TestLoadBadFlagsExit2(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("XDG_DATA_HOME", dir)
	for _, args := range [][]string{
		{"load", "sip:x@127.0.0.1", "--calls", "0"},
		{"load", "sip:x@127.0.0.1", "--rate", "0"},
		{"load", "sip:x@127.0.0.1", "--rate", "-3"},
		{"load", "sip:x@127.0.0.1", "--duration", "0s"},
		{"load", "sip:x@127.0.0.1", "--max-loss", "101"},
		{"load", "sip:x@127.0.0.1", "--max-concurrent", "-1"},
		{"load", "sip:x@127.0.0.1", "--max-concurrent", "100000000", "--calls", "100000000"},
		{"load", "sip:x@127.0.0.1", "--play", filepath.Join(dir, "missing.wav")},
		{"load", "echo"},
		{"load", "nohost", "--listen", "127.0.0.1:0"},
		{"load"},
		{"answer", "--max-calls", "-2"},
		{"answer", "--max-calls", "1000000", "--listen", "127.0.0.1:0"},
	} {
		code, _, errOut := runArgs(t, args...)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != exitUsage || !strings.HasPrefix(lines[0], "dialtone: ") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with one message", args, code, errOut)
		}
	}
}

// TestLoadCountsSilentFarEndsAndOutages: a far end that answers and never sends RTP is a failed
// call (media), not a perfect one; an outage of 3 s in a 10 s call counts every packet it took,
// from the sequence numbers, where the jitter buffer stopped counting after half a second.
func TestLoadCountsSilentFarEndsAndOutages(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	silent := &loadCall{}
	finishLoadCall(silent, phone.CallStatus{Started: t0, Answered: t0, Ended: t0.Add(5 * time.Second), By: "local"},
		&phone.StreamStats{PacketsSent: 250})
	if silent.ok || silent.Failure != "media" || silent.LossPct != 100 || silent.MOS > 1.5 {
		t.Fatalf("no RTP back: ok %v, failure %q, loss %g %%, MOS %g; want a media failure, 100 %%", silent.ok, silent.Failure, silent.LossPct, silent.MOS)
	}
	if s := summarise([]*loadCall{silent}, 1); s.Failed != 1 {
		t.Fatalf("summary: %d failed, want 1", s.Failed)
	}
	outage := &loadCall{}
	finishLoadCall(outage, phone.CallStatus{Started: t0, Answered: t0, Ended: t0.Add(10 * time.Second), By: "local"},
		&phone.StreamStats{PacketsSent: 500, PacketsReceived: 350, Lost: 25, NeverArrived: 150})
	if outage.NetLost != 150 || outage.Lost != 150 || outage.LossPct != 30 {
		t.Fatalf("a 3 s outage: %d never arrived, %d lost, %g %%; want 150, 150, 30 %%", outage.NetLost, outage.Lost, outage.LossPct)
	}
	short := &loadCall{} // answered and hung up at once: no time for a packet
	finishLoadCall(short, phone.CallStatus{Started: t0, Answered: t0, Ended: t0.Add(100 * time.Millisecond), By: "local"}, &phone.StreamStats{})
	if !short.ok {
		t.Fatalf("a call of 100 ms with no RTP counted failed: %q", short.Failure)
	}
}

// TestLoadFilesForTheCallsThatCanBeUp: the open-file check counts the calls that can be up at
// once at the rate asked, not every call of the run.
func TestLoadFilesForTheCallsThatCanBeUp(t *testing.T) {
	for _, c := range []struct {
		calls, max int
		rate       float64
		want       int
	}{
		{10000, 0, 10, 421}, // ring timeout 30 s + 5 s + 7 s (set-up, BYE) at 10/s, and one
		{10000, 50, 10, 50},
		{20, 0, 100, 20},
	} {
		l := &loadCmd{Calls: c.calls, MaxConcurrent: c.max, Rate: c.rate, Duration: 5 * time.Second, RingTimeout: 30 * time.Second}
		if got := l.mostAtOnce(); got != c.want {
			t.Errorf("%d calls (at most %d) at %g/s: %d at once, want %d", c.calls, c.max, c.rate, got, c.want)
		}
	}
}
