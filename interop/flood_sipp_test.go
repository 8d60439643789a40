package interop

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// inviteFloodScenario is a sipp UAC scenario for the INVITE flood (issue 11, item 2): one
// INVITE with an SDP offer per call. A 486 or 503 is acknowledged (the ACK of a non-2xx
// carries the INVITE's Via, hence [last_Via:]) and ends the call; a 200 is acknowledged, held
// for [hold] ms and hung up. The counts file (-trace_counts) then says how many of each
// final response came back.
const inviteFloodScenario = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="invite flood">
  <send retrans="500" start_rtd="1">
    <![CDATA[

      INVITE sip:alice@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From: <sip:flood@[local_ip]:[local_port]>;tag=[pid]F[call_number]
      To: <sip:alice@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:flood@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=flood 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="486" optional="true" next="refused" rtd="1"/>
  <recv response="503" optional="true" next="refused" rtd="1"/>
  <recv response="200" rrs="true" rtd="1"/>
  <send>
    <![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From: <sip:flood@[local_ip]:[local_port]>;tag=[pid]F[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="HOLD_MS"/>
  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From: <sip:flood@[local_ip]:[local_port]>;tag=[pid]F[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
  <nop next="end"/>
  <label id="refused"/>
  <send>
    <![CDATA[

      ACK sip:alice@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      Max-Forwards: 70
      From: <sip:flood@[local_ip]:[local_port]>;tag=[pid]F[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Content-Length: 0

    ]]>
  </send>
  <label id="end"/>
</scenario>
`

// sippFlood is a running sipp UAC flooding one address with INVITEs.
type sippFlood struct {
	dir   string
	out   string
	cmd   *exec.Cmd
	start time.Time
	done  chan struct{} // closed once sipp has been reaped
	err   error
}

// startInviteFlood runs sipp sending calls INVITEs to target (host:port, UDP) at rate per
// second, from a free port of 127.0.0.1; answered calls are held for hold. sipp is killed at
// cleanup if still running.
func startInviteFlood(t *testing.T, target string, rate, calls int, hold time.Duration) *sippFlood {
	t.Helper()
	return startFlood(t, inviteFloodScenario, target, rate, calls, hold)
}

// startInviteFloodNoACK is startInviteFlood as flood tools such as inviteflood do it: a 486
// or 503 is never acknowledged, so each refused INVITE's server transaction lives until
// Timer H (32 s), retransmitting its answer.
func startInviteFloodNoACK(t *testing.T, target string, rate, calls int, hold time.Duration) *sippFlood {
	t.Helper()
	i, j := strings.Index(inviteFloodScenario, `<label id="refused"/>`), strings.Index(inviteFloodScenario, `<label id="end"/>`)
	return startFlood(t, inviteFloodScenario[:i]+`<label id="refused"/>`+"\n  "+inviteFloodScenario[j:], target, rate, calls, hold)
}

func startFlood(t *testing.T, scenario, target string, rate, calls int, hold time.Duration) *sippFlood {
	t.Helper()
	bin := sippPath(t)
	f := &sippFlood{dir: t.TempDir(), done: make(chan struct{})}
	sf := filepath.Join(f.dir, "flood.xml")
	xml := strings.ReplaceAll(scenario, "HOLD_MS", strconv.FormatInt(hold.Milliseconds(), 10))
	if err := os.WriteFile(sf, []byte(xml), 0o600); err != nil {
		t.Fatal(err)
	}
	f.out = filepath.Join(f.dir, "sipp.out")
	out, err := os.Create(f.out)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	f.cmd = exec.Command(bin, "-sf", sf, "-t", "u1", "-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freeEvenUDPPort(t)),
		"-m", strconv.Itoa(calls), "-r", strconv.Itoa(rate), "-rp", "1000", "-l", strconv.Itoa(calls),
		"-trace_counts", "-trace_stat", "-stf", filepath.Join(f.dir, "stat.csv"), "-fd", "1",
		"-trace_rtt", "-rtt_freq", "1", // every INVITE's time to its final answer
		"-nostdin", "-timeout", "50s", target)
	f.cmd.Dir = f.dir // the counts file lands in the working directory
	f.cmd.Stdout, f.cmd.Stderr = out, out
	f.start = time.Now()
	if err := f.cmd.Start(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	go func() { f.err = f.cmd.Wait(); close(f.done) }()
	t.Cleanup(func() {
		select {
		case <-f.done:
		default:
			_ = f.cmd.Process.Kill()
			<-f.done
		}
	})
	return f
}

// wait waits up to timeout for sipp to end.
func (f *sippFlood) wait(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case <-f.done:
	case <-time.After(timeout):
		t.Fatalf("sipp still running after %v\n%s", timeout, f.console())
	}
}

func (f *sippFlood) console() string {
	b, _ := os.ReadFile(f.out)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// floodCounts is what sipp's counts file says about a finished flood.
type floodCounts struct {
	Sent, Retrans          int // INVITEs, and their retransmissions
	Busy, Overload, OK     int // final responses received: 486, 503, 200
	Timeouts, Unexpected   int // over every step of the scenario
	SendSeconds, SendRate  float64
	PerSecond              []int // INVITEs sent in each second of the flood
	Completed, FailedCalls int   // from the stat file
	// Answer times: from each INVITE's first sending to its final answer (sipp's RTD, ms).
	Answered                        int
	AnswerP50, AnswerP99, AnswerMax int
}

// counts reads the last line of sipp's counts file (-trace_counts, one line per second with
// -fd 1) and the statistics file. SendSeconds is how long sending took: the elapsed time of
// the first line where every INVITE was out, less the part of that last second not needed at
// the rate of the seconds before; SendRate is calls over it.
func (f *sippFlood) counts(t *testing.T, calls int) floodCounts {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(f.dir, "*_counts.csv"))
	if len(matches) != 1 {
		t.Fatalf("sipp counts file: found %v\n%s", matches, f.console())
	}
	rows := readSippCSV(t, matches[0])
	var c floodCounts
	last := rows[len(rows)-1]
	c.Sent, c.Retrans = last.int("0_INVITE_Sent"), last.int("0_INVITE_Retrans")
	c.Busy, c.Overload = last.first("_486_Recv"), last.first("_503_Recv")
	c.OK = last.first("_200_Recv") // the INVITE's 200 comes before the BYE's
	for k, v := range last {
		n, _ := strconv.Atoi(v)
		switch {
		case strings.HasSuffix(k, "_Timeout"):
			c.Timeouts += n
		case strings.HasSuffix(k, "_Unexp"):
			c.Unexpected += n
		}
	}
	prevSent, prevT := 0, 0.0
	for _, r := range rows {
		sent, el := r.int("0_INVITE_Sent"), sippElapsed(r["ElapsedTime"])
		if sent > prevSent {
			c.PerSecond = append(c.PerSecond, sent-prevSent)
		}
		if sent >= calls {
			rate := float64(prevSent) / max(prevT, 1e-3) // the pace of the full seconds before
			c.SendSeconds = el
			if prevSent > 0 && rate > 0 {
				c.SendSeconds = min(el, prevT+float64(calls-prevSent)/rate)
			}
			break
		}
		prevSent, prevT = sent, el
	}
	if c.SendSeconds > 0 {
		c.SendRate = float64(calls) / c.SendSeconds
	}
	if rtt, _ := filepath.Glob(filepath.Join(f.dir, "*_rtt.csv")); len(rtt) == 1 {
		var ms []int
		for _, r := range readSippCSV(t, rtt[0]) {
			if v, err := strconv.Atoi(r["response_time_ms"]); err == nil {
				ms = append(ms, v)
			}
		}
		if len(ms) > 0 {
			slices.Sort(ms)
			c.Answered, c.AnswerMax = len(ms), ms[len(ms)-1]
			c.AnswerP50, c.AnswerP99 = ms[len(ms)/2], ms[len(ms)*99/100]
		}
	}
	stats := readSippCSV(t, filepath.Join(f.dir, "stat.csv"))
	s := stats[len(stats)-1]
	c.Completed, c.FailedCalls = s.int("SuccessfulCall(C)"), s.int("FailedCall(C)")
	return c
}

type sippRow map[string]string

func (r sippRow) int(k string) int { n, _ := strconv.Atoi(r[k]); return n }

// first is the value of the column with the lowest scenario index whose name ends in suffix
// (counts columns are "<index>_<message>_<what>").
func (r sippRow) first(suffix string) int {
	best, v := -1, 0
	for k, s := range r {
		idx, rest, ok := strings.Cut(k, "_")
		i, err := strconv.Atoi(idx)
		if !ok || err != nil || !strings.HasSuffix("_"+rest, suffix) {
			continue
		}
		if best < 0 || i < best {
			best = i
			v, _ = strconv.Atoi(s)
		}
	}
	return v
}

// readSippCSV reads a sipp CSV file (';'-separated, a header line, then one line per period).
func readSippCSV(t *testing.T, path string) []sippRow {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatalf("sipp CSV: %v", err)
	}
	defer fh.Close()
	r := csv.NewReader(fh)
	r.Comma, r.FieldsPerRecord, r.LazyQuotes = ';', -1, true
	recs, err := r.ReadAll()
	if err != nil && !errors.Is(err, csv.ErrFieldCount) {
		t.Fatalf("sipp CSV %s: %v", path, err)
	}
	if len(recs) < 2 {
		t.Fatalf("sipp CSV %s: %d lines, want a header and data", path, len(recs))
	}
	var rows []sippRow
	for _, rec := range recs[1:] {
		row := sippRow{}
		for i, h := range recs[0] {
			if i < len(rec) && h != "" {
				row[h] = rec[i]
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// sippElapsed parses sipp's "HH:MM:SS:mmm000" elapsed time into seconds.
func sippElapsed(s string) float64 {
	p := strings.Split(s, ":")
	if len(p) != 4 {
		return 0
	}
	h, _ := strconv.Atoi(p[0])
	m, _ := strconv.Atoi(p[1])
	sec, _ := strconv.Atoi(p[2])
	us, _ := strconv.Atoi(p[3])
	return float64(h*3600+m*60+sec) + float64(us)/1e6
}

// freeEvenUDPPort returns an even UDP port P of 127.0.0.1 with P+2 free too, a moment ago:
// sipp binds both for its media even when it sends none (6000 by default, which others use).
func freeEvenUDPPort(t *testing.T) int {
	t.Helper()
	for range 100 {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := c.LocalAddr().(*net.UDPAddr).Port
		if p%2 != 0 || p+2 > 65535 {
			c.Close()
			continue
		}
		c2, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", p+2))
		c.Close()
		if err == nil {
			c2.Close()
			return p
		}
	}
	t.Fatal("no free even UDP port pair")
	return 0
}
