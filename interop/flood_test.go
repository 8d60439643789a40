package interop

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// floodPeakRSSLimit bounds dialtone's peak RSS through the INVITE flood. Measured on the
// 2-core CI machine: ~25 MiB idle with one call, ~100 MiB at the peak of 10 000 INVITEs at
// 1000/s (each refused INVITE's server transaction, request and goroutine live until Timer I,
// 5 s after the ACK, so about 5 000 are alive at once, and Go's heap target doubles the live
// heap). 256 MiB leaves 2.5x for a slower machine where transactions pile up longer; a leak
// (state kept per INVITE for good) would pass it within the 10 000.
const floodPeakRSSLimit = 256 << 10 // KiB

// floodLoad is the flood's rate and size, and the peak RSS allowed: as issue 11 asks, except
// under the race detector, whose dialtone is 5-10x slower and keeps shadow memory for all it
// allocates. There a 1000/s flood measures the detector (answers took 7 s at the median, 6 %
// timed out, 880 MiB), so the flood is a fifth of it, the bound 3x, and the test says so: it
// still runs every path of the flood concurrently for the detector to look at.
func floodLoad(t *testing.T, rate, count int) (int, int, int64) {
	if !raceEnabled {
		return rate, count, floodPeakRSSLimit
	}
	t.Logf("under -race: %d/s for %d instead of %d/s for %d, peak RSS bound %s", rate/5, count/5, rate, count, mib(3*floodPeakRSSLimit))
	return rate / 5, count / 5, 3 * floodPeakRSSLimit
}

// TestInviteFlood (issue 11, item 2): dialtone answer, registered at Kamailio with a 4 s
// expiry (a refresh every 2 s), takes a call from baresip (a tone each way) and, with the
// call going on, sipp sends 10 000 INVITEs at 1000/s straight to its SIP port. dialtone
// answer --max-calls 3 may take two of them (held by sipp until after the flood) and must turn
// every other away with 486 (or 503 when overloaded); it must not crash, its memory must stay
// bounded, the established call must keep its audio both ways through the flood (checked as
// audio), and the registration refreshes during the flood must succeed.
func TestInviteFlood(t *testing.T) {
	t.Parallel()
	rate, calls, rssLimit := floodLoad(t, 1000, 10000)
	const (
		maxCalls        = 3
		expires         = 4
		hz, bobHz       = 1300, 700
		hold            = 12 * time.Second // past the flood's 10 s: the two it took stay up
		floodAudioShare = 0.85             // of the flood window that must hold the tone
	)
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	tone := makeTone(t, hz, 60, 8000)
	rec := filepath.Join(t.TempDir(), "from-bob.wav")
	alice := startDialtone(t, pw("alice"), append([]string{"answer", "--auto", "--json", "--count", "100",
		"--max-calls", itoa(maxCalls), "--expires", itoa(expires), "--play", tone, "--record", rec},
		adhoc(k, "udp", "alice")...)...)
	reg := alice.waitEvent("registered", 20*time.Second)
	sipAddr := contactHostPort(t, reg.str("contact"))
	mon := sampleProc(t, alice.cmd.Process.Pid, 100*time.Millisecond)

	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), ToneHz: bobHz})
	if err := bob.Dial("sip:alice@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	callID := alice.waitEvent("answered", 15*time.Second).str("call_id")
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("baresip: %v\n%s", err, bob.Log())
	}
	time.Sleep(2 * time.Second) // the call settles before the flood: audio flows meanwhile
	before := mon.last()

	floodStart := time.Now()
	f := startInviteFlood(t, sipAddr, rate, calls, hold)
	var refreshes, regFailures []event
	up, maxUp := map[string]bool{callID: true}, 1 // calls answered and not hung up, in event order
	for done := false; !done; {
		select {
		case e, ok := <-alice.events:
			if !ok {
				t.Fatalf("dialtone exited during the flood\n%s\nsipp:\n%s", alice.transcript(), f.console())
			}
			switch e.name() {
			case "registered":
				refreshes = append(refreshes, e)
			case "registration_failed":
				regFailures = append(regFailures, e)
			case "answered":
				up[e.str("call_id")] = true
				maxUp = max(maxUp, len(up))
			case "hangup":
				if e.str("call_id") == callID {
					t.Fatalf("the established call ended during the flood: %v", e)
				}
				delete(up, e.str("call_id"))
			}
		case <-f.done:
			done = true
		case <-time.After(45 * time.Second):
			t.Fatalf("sipp still running 45 s into the flood\n%s", f.console())
		}
	}
	floodEnd := time.Now()
	c := f.counts(t, calls)
	floodPeak, after := mon.peak(), mon.last()

	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	var stats event // the established call's final media statistics
	for h := event(nil); h == nil; {
		select {
		case e, ok := <-alice.events:
			if !ok {
				t.Fatalf("dialtone exited before the call's hangup\n%s", alice.transcript())
			}
			switch {
			case e.str("call_id") != callID:
			case e.name() == "stats" && e["final"] == true:
				stats = e
			case e.name() == "hangup":
				h = e
				if h.str("by") != "remote" || h.str("failure") != "" {
					t.Errorf("the established call's hangup %v: want by remote, no failure", h)
				}
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no hangup of the established call\n%s", alice.transcript())
		}
	}
	bs, err := k.Bindings("sip:alice@127.0.0.1")
	if err != nil {
		t.Fatalf("kamailio location: %v", err)
	}
	alice.signal(sigterm)
	code, _ := alice.wait(20 * time.Second)
	mon.halt()

	// What was sent and what came back.
	t.Logf("flood: %d INVITEs (%d retransmissions) in %.2f s = %.0f/s achieved (asked %d/s); per second %v",
		c.Sent, c.Retrans, c.SendSeconds, c.SendRate, rate, c.PerSecond)
	t.Logf("answers: 486 %d, 503 %d, 200 %d; sipp timeouts %d, unexpected %d; calls completed %d, failed %d; answer time p50 %d ms, p99 %d ms, max %d ms",
		c.Busy, c.Overload, c.OK, c.Timeouts, c.Unexpected, c.Completed, c.FailedCalls, c.AnswerP50, c.AnswerP99, c.AnswerMax)
	t.Logf("dialtone: RSS %s before, peak %s (VmHWM), %s after; threads %d before, %d at the peak; CPU %.1f s over the %.1f s flood",
		mib(before.RSS), mib(floodPeak.HWM), mib(after.RSS), before.Threads, floodPeak.Threads,
		(after.CPU - before.CPU).Seconds(), floodEnd.Sub(floodStart).Seconds())
	t.Logf("the established call's media: sent %.0f, received %.0f, lost %.0f, late %.0f, jitter %.1f ms",
		stats.num("packets_sent"), stats.num("packets_received"), stats.num("lost"), stats.num("late"), stats.num("jitter_ms"))
	t.Logf("calls up at once: at most %d (--max-calls %d)", maxUp, maxCalls)
	t.Logf("registration: %d refreshes answered 200 during the flood, %d failures; Kamailio binding %v", len(refreshes), len(regFailures), bs)
	if c.SendRate < 0.8*float64(rate) {
		t.Logf("NOTE: sipp achieved %.0f INVITEs/s, under the %d/s asked: the machine is loaded", c.SendRate, rate)
	}

	if code != 0 {
		t.Errorf("answer exit %d after SIGTERM\n%s", code, alice.transcript())
	}
	if c.Sent != calls {
		t.Fatalf("sipp sent %d INVITEs, want %d\n%s", c.Sent, calls, f.console())
	}
	if got := c.Busy + c.Overload + c.OK; got != calls || c.Timeouts != 0 || c.Unexpected != 0 {
		t.Errorf("final responses: %d of %d INVITEs (486 %d, 503 %d, 200 %d; %d timeouts, %d unexpected): every INVITE must be answered\n%s",
			got, calls, c.Busy, c.Overload, c.OK, c.Timeouts, c.Unexpected, f.console())
	}
	// sipp holds the calls it gets past the flood's 10 s, so normally exactly maxCalls-1 are
	// answered; a slower dialtone may answer late INVITEs in slots that freed since: what
	// must never happen is more calls up at once than --max-calls.
	if maxUp > maxCalls || c.OK == 0 {
		t.Errorf("%d calls up at once (the established one and %d answered flood INVITEs in all): --max-calls %d", maxUp, c.OK, maxCalls)
	}
	if floodPeak.HWM == 0 || floodPeak.HWM > rssLimit {
		t.Errorf("peak RSS %s, want under %s", mib(floodPeak.HWM), mib(rssLimit))
	}
	if len(regFailures) > 0 {
		t.Errorf("registration failed during the flood: %v", regFailures)
	}
	// One refresh every expires/2 s: at least all but one of those due while sipp ran.
	if due := int(floodEnd.Sub(floodStart).Seconds()) / (expires / 2); len(refreshes) < due-1 {
		t.Errorf("%d REGISTER refreshes answered during the %.1f s flood, want at least %d", len(refreshes), floodEnd.Sub(floodStart).Seconds(), due-1)
	}
	if len(bs) != 1 || bs[0].Expires <= 0 {
		t.Errorf("Kamailio's location table after the flood: %v, want alice's one live binding", bs)
	}

	// The established call's audio, over the flood: the recordings' last stretch, from the
	// flood's start to the hang-up.
	window := time.Since(floodStart) - time.Second
	if s := tailToneSeconds(t, rec, bobHz, window); s < floodAudioShare*window.Seconds() {
		t.Errorf("dialtone heard %d Hz for %.2f s of the %.1f s flood window", bobHz, s, window.Seconds())
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip: %v", err)
	}
	if s := tailToneSeconds(t, lastRecording(t, bob), hz, window); s < floodAudioShare*window.Seconds() {
		t.Errorf("baresip heard %d Hz for %.2f s of the %.1f s flood window", hz, s, window.Seconds())
	}
}

// scanRSSLimit and scanLiveLimit bound what dialtone may keep through the scanner flood. The
// live heap (GODEBUG=gctrace=1: what each collection found still in use) tells state from
// garbage not yet collected: it stays under 1 MB with the screen; through sipgo's transaction
// layer each of the 3000 requests held ~4 KiB for 32 s, and the live heap reached 10 MB (RSS
// +15.6 MiB, measured with the screen taken out). RSS also counts that garbage: +5 MiB with
// the screen, the collector's target for the parsing the flood costs. 2 MB and 10 MiB tell
// the two apart with margin.
const scanRSSLimit, scanLiveLimit = 10 << 10, 2 // KiB, MB

// TestScannerFlood (issue 11, item 2): 3000 unauthenticated OPTIONS and REGISTERs from a
// foreign host (127.0.0.2, 50 source ports) at 1000 a second to a running dialtone answer,
// with the User-Agents of scanners (friendly-scanner, sipvicious) and ordinary ones. As
// Kamailio's default configuration does, the scanners get no answer at all; the others get
// cheap stateless answers: OPTIONS 200 with Allow and Accept, REGISTER 405 with Allow (a
// phone is not a registrar). dialtone keeps no state for them (RSS and threads before and
// after), logs no warning, and a call from baresip right after works with audio both ways.
func TestScannerFlood(t *testing.T) {
	t.Parallel()
	const (
		sources   = 50
		hz, bobHz = 1100, 600
	)
	total, rate := 3000, 1000
	if raceEnabled { // the raced dialtone reads ~600 datagrams a second: the rest would overflow its socket
		total, rate = 900, 300
		t.Logf("under -race: %d requests at %d/s instead of 3000 at 1000/s", total, rate)
	}
	tone := makeTone(t, hz, 30, 8000)
	dir := t.TempDir()
	rec, logFile := filepath.Join(dir, "from-bob.wav"), filepath.Join(dir, "dialtone.log")
	started := time.Now()
	// gctrace: the runtime prints the live heap after every collection on stderr (the logs go
	// to the file), which tells state kept from garbage not yet collected.
	alice := startDialtone(t, []string{"GODEBUG=gctrace=1"}, "answer", "--listen", "127.0.0.1:0", "--auto", "--count", "1", "--json",
		"--play", tone, "--record", rec, "--log-file", logFile)
	addr := alice.waitEvent("listening", 10*time.Second).str("addr")
	mon := sampleProc(t, alice.cmd.Process.Pid, 100*time.Millisecond)
	time.Sleep(500 * time.Millisecond) // settled after start-up
	before := mon.last()

	floodAt := time.Since(started).Seconds()
	r := scanFlood(t, "127.0.0.2", addr, total, sources, rate)
	time.Sleep(500 * time.Millisecond)
	after := mon.last()
	liveBefore, liveAfter, gcs := 0, 0, 0
	for _, g := range gcTrace(alice.stderrText()) {
		if g.At < floodAt {
			liveBefore = g.Live
			continue
		}
		gcs++
		liveAfter = max(liveAfter, g.Live)
	}

	scanners, others, answeredOthers := 0, 0, 0
	for k, n := range r.sent {
		got := r.codes[k]
		t.Logf("%-8s %-22q sent %4d, answers %v", k.method, k.agent, n, got)
		if isScanAgent(k.agent) {
			scanners += n
			if len(got) > 0 {
				t.Errorf("%s from %q answered %v: a scanner gets no answer", k.method, k.agent, got)
			}
			continue
		}
		others += n
		want := map[string]int{"OPTIONS": 200, "REGISTER": 405}[k.method]
		for code, c := range got {
			if code != want {
				t.Errorf("%s from %q: %d answered %d, want %d", k.method, k.agent, c, code, want)
			}
		}
		answeredOthers += got[want]
	}
	t.Logf("scanner flood: %d requests in %v (%.0f/s) from 127.0.0.2: %d from scanners, %d others of which %d answered",
		total, r.elapsed.Round(time.Millisecond), float64(total)/r.elapsed.Seconds(), scanners, others, answeredOthers)
	t.Logf("dialtone: RSS %s before, %s after, peak %s; threads %d before, %d after; CPU %.2f s; live heap %d MB before, at most %d MB in the %d collections during and after",
		mib(before.RSS), mib(after.RSS), mib(mon.peak().HWM), before.Threads, after.Threads, (after.CPU - before.CPU).Seconds(),
		liveBefore, liveAfter, gcs)
	for _, b := range r.bad {
		t.Errorf("answer %s", b)
	}
	// Loopback may drop a datagram when the machine is busy; a real sender retransmits.
	if answeredOthers < others*98/100 || answeredOthers > others {
		t.Errorf("%d of %d ordinary requests answered", answeredOthers, others)
	}
	if after.RSS-before.RSS > scanRSSLimit {
		t.Errorf("RSS grew by %s through the flood (%s -> %s): state kept per request", mib(after.RSS-before.RSS), mib(before.RSS), mib(after.RSS))
	}
	if gcs == 0 {
		t.Errorf("no garbage collection during or after the flood: the live heap was not measured")
	} else if liveAfter > liveBefore+scanLiveLimit {
		t.Errorf("live heap %d MB before the flood, %d MB during it: state kept per request", liveBefore, liveAfter)
	}
	if after.Threads > before.Threads+2 {
		t.Errorf("threads %d -> %d through the flood", before.Threads, after.Threads)
	}

	// A legitimate call right after: baresip calls straight to dialtone's port.
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", ToneHz: bobHz})
	baresipCallsAnswerer(t, bob, alice, "sip:alice@"+addr)
	assertTone(t, rec, bobHz, 2)
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip: %v", err)
	}
	assertTone(t, lastRecording(t, bob), hz, 2)

	// What the phone says it did (logged when it stops), and no warning for any of it.
	logText := readFile(t, logFile)
	report, warnings := "", []string{}
	for _, l := range strings.Split(logText, "\n") {
		if strings.Contains(l, "SIP requests handled without state") {
			report = l
		}
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			warnings = append(warnings, l)
		}
	}
	if len(warnings) > 0 {
		t.Errorf("dialtone logged %d warnings or errors, the first %q", len(warnings), warnings[0])
	}
	t.Logf("dialtone's log: %s", report)
	if !strings.Contains(report, fmt.Sprintf("scanner_requests_dropped=%d", scanners)) {
		t.Errorf("dialtone's report %q: want scanner_requests_dropped=%d", report, scanners)
	}
}

// TestInviteFloodWithoutACK: the INVITE flood as flood tools send it, never acknowledging
// the 486: 10 000 INVITEs at 1000/s to dialtone answer --max-calls 1 that holds a call (from
// sipp, the flood's first INVITE). Every refused INVITE's server transaction then lives 32 s
// (Timer H), retransmitting its 486; all 10 000 are alive at the end of the flood. dialtone
// must answer every INVITE, not crash, and stay under the same memory bound.
func TestInviteFloodWithoutACK(t *testing.T) {
	t.Parallel()
	rate, calls, rssLimit := floodLoad(t, 1000, 10000)
	alice := startDialtone(t, nil, "answer", "--listen", "127.0.0.1:0", "--auto", "--count", "100", "--max-calls", "1",
		"--audio", "null", "--json")
	addr := alice.waitEvent("listening", 10*time.Second).str("addr")
	mon := sampleProc(t, alice.cmd.Process.Pid, 100*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	before := mon.last()
	f := startInviteFloodNoACK(t, addr, rate, calls, 11*time.Second) // the call it takes outlasts the flood
	f.wait(t, 45*time.Second)
	time.Sleep(time.Second) // the transactions are all alive: the peak
	c := f.counts(t, calls)
	peak := mon.peak()
	select {
	case <-alice.done:
		t.Fatalf("dialtone exited during the flood\n%s", alice.transcript())
	default:
	}
	alice.signal(sigterm)
	code, _ := alice.wait(20 * time.Second)
	t.Logf("flood without ACK: %d INVITEs (%d retransmissions) in %.2f s = %.0f/s achieved (asked %d/s)", c.Sent, c.Retrans, c.SendSeconds, c.SendRate, rate)
	t.Logf("answers: 486 %d, 503 %d, 200 %d; sipp timeouts %d, unexpected %d; answer time p50 %d ms, p99 %d ms, max %d ms",
		c.Busy, c.Overload, c.OK, c.Timeouts, c.Unexpected, c.AnswerP50, c.AnswerP99, c.AnswerMax)
	t.Logf("dialtone: RSS %s before, peak %s (VmHWM), threads %d before, %d at the peak; CPU %.1f s",
		mib(before.RSS), mib(peak.HWM), before.Threads, peak.Threads, (peak.CPU - before.CPU).Seconds())
	if code != 0 {
		t.Errorf("answer exit %d after SIGTERM\n%s", code, alice.transcript())
	}
	if c.Sent != calls || c.Busy+c.Overload+c.OK != calls || c.OK > 1 || c.Timeouts != 0 {
		t.Errorf("%d INVITEs sent: 486 %d, 503 %d, 200 %d, %d timeouts; want every one answered, at most one 200\n%s",
			c.Sent, c.Busy, c.Overload, c.OK, c.Timeouts, f.console())
	}
	if peak.HWM == 0 || peak.HWM > rssLimit {
		t.Errorf("peak RSS %s, want under %s", mib(peak.HWM), mib(rssLimit))
	}
}
