package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone/pcap"
	"github.com/dialtone/dialtone/ui"
)

// readLadder is the capture's SIP as "direction summary" lines, in file order, and whether
// the capture times never go backwards.
func readLadder(t *testing.T, file string) ([]string, bool) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	var last time.Time
	monotonic := true
	err = pcap.ReadSIP(f, func(m pcap.SIPMessage) error {
		out = append(out, direction(m)+" "+m.Summary())
		monotonic = monotonic && !m.Time.Before(last)
		last = m.Time
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, monotonic
}

// TestPcapPutsAnswersAfterTheirCause: sipgo reports what it sent after the write, so an
// answer can be reported first; the capture writes a response after the request with its Via
// branch, an ACK after the final response it acknowledges, keeps received messages in their
// own order, and waits at most sipHold for a cause that never comes.
func TestPcapPutsAnswersAfterTheirCause(t *testing.T) {
	file := filepath.Join(t.TempDir(), "order.pcapng")
	c := &pcapCapture{path: file, routes: map[netip.Addr]netip.Addr{}}
	tr := &pcapTracer{c: c}
	const me, far = "127.0.0.1:5062", "127.0.0.1:5090"
	msg := func(first, branch, cseq string) []byte {
		return []byte(first + "\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;rport;branch=" + branch + "\r\nCall-ID: c1\r\nCSeq: " + cseq + "\r\nContent-Length: 0\r\n\r\n")
	}
	tr.SIPTraceRead("UDP", me, far, msg("SIP/2.0 180 Ringing", "z9hG4bKinv", "1 INVITE")) // before its INVITE
	tr.SIPTraceRead("UDP", me, far, msg("OPTIONS sip:me SIP/2.0", "z9hG4bKopt", "7 OPTIONS"))
	tr.SIPTraceWrite("UDP", me, far, msg("INVITE sip:far SIP/2.0", "z9hG4bKinv", "1 INVITE"))
	tr.SIPTraceRead("UDP", me, far, msg("SIP/2.0 200 OK", "z9hG4bKinv", "1 INVITE"))
	tr.SIPTraceRead("UDP", me, far, msg("ACK sip:me SIP/2.0", "z9hG4bKack", "2 ACK")) // before our 200
	tr.SIPTraceWrite("UDP", me, far, msg("SIP/2.0 200 OK", "z9hG4bKfar", "2 INVITE"))
	got, mono := readLadder(t, file)
	want := []string{"sent INVITE", "received 180 Ringing", "received OPTIONS", "received 200 OK", "sent 200 OK", "received ACK"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") || !mono {
		t.Errorf("capture order %v (times monotonic %v), want %v", got, mono, want)
	}

	// A response to nothing we sent waits sipHold, not for ever, and what came after it waits
	// behind it rather than overtaking it.
	tr.SIPTraceRead("UDP", me, far, msg("SIP/2.0 481 Gone", "z9hG4bKnever", "9 BYE"))
	tr.SIPTraceRead("UDP", me, far, msg("BYE sip:me SIP/2.0", "z9hG4bKbye", "3 BYE"))
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < len(want)+2 && time.Now().Before(deadline) {
		time.Sleep(sipHold / 4)
		got, _ = readLadder(t, file)
	}
	if tail := strings.Join(got[len(want):], ", "); tail != "received 481 Gone, received BYE" {
		t.Errorf("after the wait: %v", got)
	}
	c.order.flush()
	c.w.Load().Close()
}

// TestPcapBesidePaneAndTraceFile: in the TUI the capture's tracer hands each message on to the
// log pane (and from there to --sip-trace): all three get it, keys masked in each.
func TestPcapBesidePaneAndTraceFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tui.pcapng")
	e := &env{pcap: &pcapCapture{path: file, routes: map[netip.Addr]netip.Addr{}}}
	var trace strings.Builder
	logs := make(chan ui.LogLine, 4)
	tr := e.withPcap(&paneTracer{logs: logs, file: &sipTracer{w: &trace}})
	msg := "MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\nCall-ID: m1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
	tr.SIPTraceWrite("UDP", "127.0.0.1:5062", "127.0.0.1:5090", []byte(msg))
	e.pcap.order.flush()
	e.pcap.w.Load().Close()
	got, _ := readLadder(t, file)
	if len(got) != 1 || got[0] != "sent MESSAGE" || len(logs) != 1 || !strings.Contains(trace.String(), "MESSAGE sip:bob") {
		t.Errorf("capture %v, %d pane lines, trace file %q", got, len(logs), trace.String())
	}
	if (&env{}).withPcap(nil) != nil {
		t.Error("no --pcap, no --sip-trace: a tracer was installed")
	}
}

// TestPaneShowsAnswersAfterTheirCause: the TUI's log pane, and the SIP ladder built from it,
// put a response after the request it answers, as the capture does: a CI run's ladder showed
// the 200 to our BYE above the BYE (sipgo reported the BYE after the 200 had come).
func TestPaneShowsAnswersAfterTheirCause(t *testing.T) {
	logs := make(chan ui.LogLine, 4)
	tr := &paneTracer{logs: logs}
	const me, far = "127.0.0.1:5062", "127.0.0.1:5090"
	msg := func(first string) []byte {
		return []byte(first + "\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;rport;branch=z9hG4bKbye\r\nCall-ID: c1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n")
	}
	tr.SIPTraceRead("UDP", me, far, msg("SIP/2.0 200 OK"))
	tr.SIPTraceWrite("UDP", me, far, msg("BYE sip:far SIP/2.0"))
	var got []string
	var times []time.Time
	for range 2 {
		select {
		case l := <-logs:
			_, rest, _ := strings.Cut(l.Text, "\n")
			first, _, _ := strings.Cut(rest, "\r\n")
			got = append(got, first)
			times = append(times, l.Time)
		case <-time.After(5 * time.Second):
			t.Fatalf("pane lines %q: one never came", got)
		}
	}
	if got[0] != "BYE sip:far SIP/2.0" || got[1] != "SIP/2.0 200 OK" || times[1].Before(times[0]) {
		t.Errorf("pane order %q at %v, want the BYE, then its 200 no earlier", got, times)
	}
}
