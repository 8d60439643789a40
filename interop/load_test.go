package interop

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// loadMaxLoss is --max-loss for these tests: none. On loopback no packet is lost (the echo
// test checks that every packet sent comes back), but on a busy machine frames reach the
// jitter buffer after their playout time and count as lost at playout (loss_pct), as many as
// the machine's load makes late: that depends on the machine, not on dialtone, so the exit
// code must not. The summary arithmetic is unit-tested (TestSummariseCountsFailuresAndLoss).
const loadMaxLoss = "100"

// checkLossFields checks that a call line's loss fields agree with each other: net_lost is
// lost minus late, and the percentages are those counts over the packets expected.
func checkLossFields(t *testing.T, c event) {
	t.Helper()
	lost, late, net, got := c.num("lost"), c.num("late"), c.num("net_lost"), c.num("packets_received")
	off := func(field string, n float64) bool { // the fields are rounded to 0.001
		return got+net > 0 && math.Abs(c.num(field)-min(100*n/(got+net), 100)) > 0.001
	}
	if net != max(lost-late, 0) || off("loss_pct", lost) || off("net_loss_pct", net) {
		t.Errorf("call line %v: the loss fields do not add up", c)
	}
	if m := c.num("mos"); c["answered"] == true && (m < 1 || m > 4.5) {
		t.Errorf("call line %v: MOS %g outside 1..4.5", c, m)
	}
}

// loadCalls returns the "call" lines of dialtone load --json and its "summary" line.
func loadCalls(t *testing.T, evs []event, p *proc) ([]event, event) {
	t.Helper()
	var calls []event
	var sum event
	for _, e := range evs {
		switch e.name() {
		case "call":
			calls = append(calls, e)
		case "summary":
			sum = e
		}
	}
	if sum == nil {
		t.Fatalf("no summary line\n%s", p.transcript())
	}
	return calls, sum
}

// TestLoadAnswerHearsTone: dialtone load places three calls to dialtone answer, which records
// each; every recording holds the tone load played, and every call is reported answered.
func TestLoadAnswerHearsTone(t *testing.T) {
	t.Parallel()
	tone := makeTone(t, 900, 1, 8000) // shorter than the call: load loops it
	rec := filepath.Join(t.TempDir(), "rec.wav")
	ans := startDialtone(t, nil, "answer", "--listen", "127.0.0.1:0", "--auto", "--count", "3", "--max-calls", "3",
		"--audio", "null", "--record", rec, "--json")
	addr := ans.waitEvent("listening", 10*time.Second).str("addr")
	code, evs, p := runDialtone(t, 30*time.Second, nil, "load", "sip:bob@"+addr, "--calls", "3", "--rate", "20",
		"--duration", "2500ms", "--play", tone, "--json", "--max-loss", loadMaxLoss)
	if code != 0 {
		t.Fatalf("load exit %d\n%s\nanswer:\n%s", code, p.transcript(), ans.transcript())
	}
	calls, sum := loadCalls(t, evs, p)
	if len(calls) != 3 || sum.num("answered") != 3 || sum.num("failed") != 0 {
		t.Fatalf("%d call lines, summary %v; want 3 answered\n%s", len(calls), sum, p.transcript())
	}
	for _, c := range calls {
		if c["answered"] != true || c.num("code") != 200 || c.num("setup_ms") <= 0 || c.num("packets_sent") < 50 || c.num("packets_received") < 50 {
			t.Errorf("call line %v: want answered, 200, a setup time, over 50 packets sent and received (2.5 s of 20 ms frames)", c)
		}
		checkLossFields(t, c)
	}
	if acode, _ := ans.wait(15 * time.Second); acode != 0 {
		t.Fatalf("answer exit %d after its 3 calls\n%s", acode, ans.transcript())
	}
	for _, r := range []string{rec, strings.TrimSuffix(rec, ".wav") + "-2.wav", strings.TrimSuffix(rec, ".wav") + "-3.wav"} {
		if s := toneSeconds(t, r, 900); s < 1.5 { // 2.5 s of call: the 1 s file was looped
			t.Errorf("%s: 900 Hz heard for %.2f s, want the looped tone for most of the 2.5 s call", filepath.Base(r), s)
		}
	}
}

// TestLoadAnswerMaxCalls: answer --max-calls 1 takes one call at a time and turns the next
// away with 486; load reports it and exits 15.
func TestLoadAnswerMaxCalls(t *testing.T) {
	t.Parallel()
	ans := startDialtone(t, nil, "answer", "--listen", "127.0.0.1:0", "--auto", "--count", "2", "--max-calls", "1", "--audio", "null", "--json")
	addr := ans.waitEvent("listening", 10*time.Second).str("addr")
	code, evs, p := runDialtone(t, 30*time.Second, nil, "load", "sip:bob@"+addr, "--calls", "2", "--rate", "50", "--duration", "1500ms", "--json")
	if code != 15 {
		t.Fatalf("load exit %d, want 15 (a call failed)\n%s", code, p.transcript())
	}
	calls, sum := loadCalls(t, evs, p)
	codes, _ := sum["codes"].(map[string]any)
	if len(calls) != 2 || codes["200"] != 1.0 || codes["486"] != 1.0 || sum.num("failed") != 1 || sum.num("peak_concurrent") != 2 {
		t.Fatalf("summary %v, want one 200 and one 486 with both calls placed at once\n%s", sum, p.transcript())
	}
	for _, c := range calls {
		if c.num("code") == 486 && (c["answered"] != false || c.str("failure") != "busy") {
			t.Errorf("the refused call's line %v: want answered false, failure busy", c)
		}
	}
	ans.signal(sigterm) // it handled one of its two calls: the refused one never reached it
	if acode, _ := ans.wait(15 * time.Second); acode != 0 {
		t.Fatalf("answer exit %d\n%s", acode, ans.transcript())
	}
}

// TestLoadSippEcho: load against sipp's UAS with RTP echo: every call is answered, what is
// sent comes back (packets received ≈ sent), no loss on loopback, and sipp completes every
// call of its scenario.
func TestLoadSippEcho(t *testing.T) {
	t.Parallel()
	const n = 6
	s := peers.StartSippUAS(t, peers.SippOptions{Scenario: "uas_echo", RTPEcho: true, Calls: n})
	tone := makeTone(t, 700, 1, 8000)
	code, evs, p := runDialtone(t, 30*time.Second, nil, "load", s.URI("echo"), "--calls", fmt.Sprint(n), "--rate", "30",
		"--max-concurrent", "4", "--duration", "2s", "--play", tone, "--json", "--max-loss", loadMaxLoss)
	if code != 0 {
		t.Fatalf("load exit %d\n%s\nsipp:\n%s", code, p.transcript(), s.Log())
	}
	calls, sum := loadCalls(t, evs, p)
	if len(calls) != n || sum.num("answered") != n || sum.num("peak_concurrent") > 4 {
		t.Fatalf("%d call lines, summary %v; want %d answered, at most 4 at once", len(calls), sum, n)
	}
	for _, c := range calls {
		sent, got := c.num("packets_sent"), c.num("packets_received")
		// The echo returns every packet that reached it while the call lasted: on loopback
		// none is lost, only the last few sent before the BYE may still be on their way back.
		// 2 s of 20 ms frames is 100 packets (fewer if a busy machine delays the first ones).
		if c["answered"] != true || sent < 80 || got < sent-10 || got > sent {
			t.Errorf("call line %v: want answered, about 100 packets sent and all but the last few back", c)
		}
		checkLossFields(t, c)
	}
	if sum["pacer"] == nil || sum.num("packets_received") < sum.num("packets_sent")-10*n {
		t.Errorf("summary %v: want the pacer's lateness and every packet back but the last few of each call", sum)
	}
	if sc, err := s.Wait(10 * time.Second); err != nil || sc != 0 {
		t.Fatalf("sipp exit %d (%v): not every call went through its scenario\n%s", sc, err, s.Log())
	}
}

// TestLoadInterrupted: Ctrl-C hangs up the calls in progress, places no more, and still
// reports every call placed; calls we hung up count as answered and fine, but the run, which
// placed 2 of 50, is no pass (exit 15, as for calls not answered).
func TestLoadInterrupted(t *testing.T) {
	t.Parallel()
	ans := startDialtone(t, nil, "answer", "--listen", "127.0.0.1:0", "--auto", "--count", "2", "--max-calls", "2", "--audio", "null", "--json")
	addr := ans.waitEvent("listening", 10*time.Second).str("addr")
	p := startDialtone(t, nil, "load", "sip:bob@"+addr, "--calls", "50", "--max-concurrent", "2", "--rate", "50", "--duration", "60s", "--json", "--max-loss", loadMaxLoss)
	ans.waitEvent("answered", 10*time.Second)
	ans.waitEvent("answered", 10*time.Second)
	p.signal(syscall.SIGINT)
	code, evs := p.wait(15 * time.Second)
	if code != 15 || !strings.Contains(p.stderrText(), "interrupted: 2 of 50 calls placed") {
		t.Fatalf("load exit %d after Ctrl-C, want 15 saying it was interrupted\n%s", code, p.transcript())
	}
	calls, sum := loadCalls(t, evs, p)
	// answer says "answered" once its 200 OK is on the wire: load may not have read it yet
	// when Ctrl-C comes, and then cancels the call (reported as cancelled, not failed).
	if len(calls) != 2 || sum.num("attempted") != 2 || sum.num("requested") != 50 || sum.num("failed") != 0 ||
		sum.num("answered")+sum.num("cancelled") != 2 {
		t.Fatalf("%d call lines, summary %v: want the 2 calls in progress, answered or cancelled, of 50 requested", len(calls), sum)
	}
	for _, c := range calls {
		if c.str("by") != "local" || c.num("duration") > 30 || (c["answered"] != true && c["cancelled"] != true) {
			t.Errorf("call line %v: want hung up by us at once, not after its 60 s", c)
		}
	}
	if acode, _ := ans.wait(15 * time.Second); acode != 0 {
		t.Fatalf("answer exit %d\n%s", acode, ans.transcript())
	}
}

// TestLoadBadFlags: bad flags exit 2 with one sentence on stderr and place no call.
func TestLoadBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--calls", "0"},
		{"--rate", "0"},
		{"--duration", "-1s"},
		{"--max-loss", "150"},
		{"--play", "/nonexistent.wav"},
	} {
		code, _, p := runDialtone(t, 15*time.Second, nil, append([]string{"load", "sip:x@127.0.0.1:9"}, args...)...)
		p.mu.Lock()
		stderr := strings.TrimSpace(p.stderr.String())
		stdout := strings.Join(p.stdout, "\n")
		p.mu.Unlock()
		if code != 2 || strings.Count(stderr, "\n") != 0 || !strings.HasPrefix(stderr, "dialtone: ") || stdout != "" {
			t.Errorf("load %v: exit %d, stderr %q, stdout %q; want exit 2, one line, no output", args, code, stderr, stdout)
		}
	}
}
