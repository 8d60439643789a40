package interop

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// tsharkFields runs tshark on file and returns its -T fields rows (tab-separated columns);
// the test is skipped when tshark is not installed.
func tsharkFields(t *testing.T, file string, args ...string) [][]string {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed (Debian package tshark): it decodes the capture independently")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-r", file, "-T", "fields"}, args...)...)
	cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir()) // no user preferences
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %v: %v\n%s", args, err, out)
	}
	var rows [][]string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if l != "" {
			rows = append(rows, strings.Split(l, "\t"))
		}
	}
	return rows
}

// sdpMedia is what an SDP body says about its audio: the RTP port and the payload type of
// the named codec (from a=rtpmap).
func sdpMedia(t *testing.T, body, codec string) (port, pt int) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^m=audio (\d+) `).FindStringSubmatch(body)
	r := regexp.MustCompile(`(?mi)^a=rtpmap:(\d+) ` + regexp.QuoteMeta(codec) + `/`).FindStringSubmatch(body)
	if m == nil || r == nil {
		t.Fatalf("no audio port or %s payload type in SDP:\n%s", codec, body)
	}
	port, _ = strconv.Atoi(m[1])
	pt, _ = strconv.Atoi(r[1])
	return port, pt
}

// capturedRTP is what tshark found of one direction's RTP.
type capturedRTP struct {
	packets int
	ssrcs   map[string]int
	pts     map[string]int
}

// TestPcapOfCallToBaresip: dialtone calls baresip (Opus, plain RTP) with --pcap --pcap-rtp;
// tshark decodes the capture: the SIP messages are the ones baresip's own trace shows, in the
// same order (INVITE, 100, 180, 200, ACK, BYE, 200 as this call had them), and the RTP each
// way has one SSRC and the payload type the SDP gave Opus, as many packets as dialtone's
// final statistics counted, and baresip's RTCP reports name the SSRCs seen in the RTP.
func TestPcapOfCallToBaresip(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark is not installed (Debian package tshark): it decodes the capture independently")
	}
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", AutoAnswer: true, ToneHz: 700, Codecs: []string{"opus"}})
	dir := t.TempDir()
	tone, file := makeTone(t, 1300, 20, 48000), filepath.Join(dir, "call.pcapng")
	code, evs, p := runDialtone(t, 40*time.Second, nil, "call", "sip:bob@127.0.0.1:"+strconv.Itoa(bob.SIPPort()), "--json",
		"--codecs", "opus", "--play", tone, "--record", filepath.Join(dir, "from-bob.wav"), "--duration", "7s", "--pcap", file, "--pcap-rtp")
	if code != 0 {
		t.Fatalf("exit %d\n%s\nbaresip:\n%s", code, p.transcript(), bob.Log())
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip saw no hangup: %v", err)
	}
	var final event
	for _, e := range evs {
		if e.name() == "stats" && e["final"] == true {
			final = e
		}
	}
	if final == nil {
		t.Fatalf("no final stats: %v", names(evs))
	}

	// SIP: what tshark finds in the capture against what baresip itself sent and received.
	var want []string
	var offer, answer string
	for _, m := range bob.SIPTrace() {
		s := m.Method()
		if !m.IsRequest() {
			s = strconv.Itoa(m.StatusCode()) + " " + s
			if m.Method() == "INVITE" && m.StatusCode() == 200 {
				answer = m.Body()
			}
		} else if s == "INVITE" {
			offer = m.Body()
		}
		want = append(want, s)
	}
	var got []string
	for _, r := range tsharkFields(t, file, "-Y", "sip", "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.CSeq.method") {
		if r[1] != "" {
			got = append(got, r[1]+" "+r[2])
		} else {
			got = append(got, r[0])
		}
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("tshark -Y sip: %v\nbaresip's trace: %v", got, want)
	}
	for _, m := range []string{"INVITE", "200 INVITE", "ACK", "BYE", "200 BYE"} {
		if !strings.Contains(", "+strings.Join(got, ", ")+",", ", "+m+",") {
			t.Errorf("no %s in the capture: %v", m, got)
		}
	}
	ourPort, _ := sdpMedia(t, offer, "opus")
	bobPort, bobPT := sdpMedia(t, answer, "opus")

	// RTP: tshark follows the SDP in the capture to decode the negotiated ports as RTP.
	streams := map[string]*capturedRTP{}
	for _, r := range tsharkFields(t, file, "-Y", "rtp", "-e", "udp.srcport", "-e", "udp.dstport", "-e", "rtp.ssrc", "-e", "rtp.p_type") {
		dir := "?"
		switch {
		case r[0] == strconv.Itoa(ourPort) && r[1] == strconv.Itoa(bobPort):
			dir = "sent"
		case r[0] == strconv.Itoa(bobPort) && r[1] == strconv.Itoa(ourPort):
			dir = "received"
		}
		s := streams[dir]
		if s == nil {
			s = &capturedRTP{ssrcs: map[string]int{}, pts: map[string]int{}}
			streams[dir] = s
		}
		s.packets++
		s.ssrcs[r[2]]++
		s.pts[r[3]]++
	}
	sent, received := streams["sent"], streams["received"]
	if sent == nil || received == nil || streams["?"] != nil {
		t.Fatalf("RTP in the capture by direction (ports %d, %d): %v", ourPort, bobPort, streams)
	}
	if int(final.num("packets_sent")) != sent.packets {
		t.Errorf("capture: %d RTP packets sent, dialtone's statistics: %v", sent.packets, final.num("packets_sent"))
	}
	// Received packets are tapped before the latch and SSRC checks: what those dropped is in the
	// capture but not in packets_received.
	if got, st := received.packets, final.num("packets_received"); float64(got) < st || float64(got) > st+final.num("dropped") {
		t.Errorf("capture: %d RTP packets received, statistics: %v received, %v dropped", got, st, final.num("dropped"))
	}
	for name, s := range map[string]*capturedRTP{"sent": sent, "received": received} {
		if len(s.ssrcs) != 1 || len(s.pts) != 1 || s.pts[strconv.Itoa(bobPT)] == 0 {
			t.Errorf("%s RTP: SSRCs %v, payload types %v; want one SSRC and Opus's %d", name, s.ssrcs, s.pts, bobPT)
		}
	}

	// RTCP from baresip: its sender SSRC is the one its RTP carried, and its report blocks are
	// about the SSRC ours carried.
	var ourSSRC, bobSSRC string
	for k := range sent.ssrcs {
		ourSSRC = k
	}
	for k := range received.ssrcs {
		bobSSRC = k
	}
	reports := 0
	senders, about := map[string]bool{}, map[string]bool{}
	for _, r := range tsharkFields(t, file, "-Y", "rtcp && udp.srcport == "+strconv.Itoa(bobPort+1), "-e", "rtcp.senderssrc", "-e", "rtcp.ssrc.identifier") {
		reports++
		for i, set := range []map[string]bool{senders, about} {
			for _, v := range strings.Split(r[i], ",") {
				if v != "" {
					set[v] = true
				}
			}
		}
	}
	// Report blocks are about our stream (a BYE names baresip's own).
	if reports == 0 || len(senders) != 1 || !senders[bobSSRC] || !about[ourSSRC] {
		t.Errorf("%d RTCP packets from baresip: senders %v, about %v; its RTP had SSRC %s, ours %s", reports, senders, about, bobSSRC, ourSSRC)
	}
	t.Logf("capture: SIP %v; RTP sent %d (SSRC %s, PT %d), received %d (SSRC %s); %d RTCP from baresip",
		got, sent.packets, ourSSRC, bobPT, received.packets, bobSSRC, reports)
}
