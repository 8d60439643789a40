package interop

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
	"github.com/dialtone/dialtone/phone/srtp"
)

// TestPcapOfSRTPCallOverTLS: dialtone, registered over TLS at Kamailio, calls a baresip that
// requires SRTP, with --pcap --pcap-rtp --sip-trace. tshark decodes the SIP (written as TCP
// on the TLS ports) message for message as the SIP trace lists it; no SRTP key is in the
// capture, only the mask; the RTP both ways is there decrypted (plain, each packet's comment
// says so), with one SSRC each way and the payload type of the negotiated PCMU.
func TestPcapOfSRTPCallOverTLS(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark is not installed (Debian package tshark): it decodes the capture independently")
	}
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	bob := tlsBaresip(t, k, "bob", "srtp-mand", 700)
	dir := t.TempDir()
	tone, file, trace := makeTone(t, 1300, 20, 8000), filepath.Join(dir, "call.pcapng"), filepath.Join(dir, "sip.trace")
	code, evs, p := runDialtone(t, 40*time.Second, pw("alice"), append([]string{"call", "sip:bob@127.0.0.1", "--json",
		"--media-encryption", "sdes-required", "--tls-ca", k.CAFile(), "--codecs", "PCMU", "--sip-trace", trace,
		"--pcap", file, "--pcap-rtp", "--play", tone, "--record", filepath.Join(dir, "from-bob.wav"), "--duration", "4s"},
		adhoc(k, "tls", "alice")...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\nbaresip:\n%s", code, p.transcript(), bob.Log())
	}
	wantEncrypted(t, evs)

	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	inline := regexp.MustCompile(`(?i)inline:(<key hidden>|[^|;\s]*)`).FindAllSubmatch(raw, -1)
	if len(inline) == 0 {
		t.Errorf("no a=crypto in the capture: the SDP of an SRTP call should be there, masked")
	}
	for _, m := range inline {
		if string(m[1]) != srtp.KeyMask {
			t.Errorf("the capture holds an SRTP key: inline:%s", m[1])
		}
	}

	// The SIP trace's first lines, in order, are the SIP messages tshark finds.
	var want []string
	f, err := os.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for header := false; sc.Scan(); {
		line := strings.TrimRight(sc.Text(), "\r")
		if header && line != "" {
			want = append(want, line)
			header = false
		}
		header = header || strings.HasPrefix(line, "=== ")
	}
	var got []string
	for _, r := range tsharkFields(t, file, "-Y", "sip", "-e", "sip.Request-Line", "-e", "sip.Status-Line") {
		got = append(got, strings.Split(r[0]+r[1], ",")...) // a TCP segment may hold two messages
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) < 7 {
		t.Errorf("tshark -Y sip:\n%s\nthe SIP trace:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// RTP/SAVP in the SDP: Wireshark names the streams SRTP, and dissects their (plain) RTP headers.
	n := map[string]int{}
	ssrcs := map[string]map[string]bool{}
	for _, r := range tsharkFields(t, file, "-Y", "rtp", "-e", "udp.srcport", "-e", "rtp.ssrc", "-e", "rtp.p_type", "-e", "frame.comment") {
		n[r[0]]++
		if ssrcs[r[0]] == nil {
			ssrcs[r[0]] = map[string]bool{}
		}
		ssrcs[r[0]][r[1]] = true
		if r[2] != "0" || !strings.Contains(r[3], "decrypted") {
			t.Errorf("RTP from port %s: payload type %s (want PCMU's 0), comment %q", r[0], r[2], r[3])
			break
		}
	}
	if len(n) != 2 {
		t.Fatalf("RTP by source port: %v; want two streams", n)
	}
	for port, c := range n {
		if c < 100 || len(ssrcs[port]) != 1 {
			t.Errorf("RTP from port %s: %d packets, SSRCs %v; want ~200 (4 s) with one SSRC", port, c, ssrcs[port])
		}
	}
	t.Logf("capture: %d SIP messages; RTP by source port %v", len(got), n)
}
