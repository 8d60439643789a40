package interop

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// delayedOfferScenario is a sipp UAC that sends an INVITE without SDP (a delayed offer, as Cisco
// CUCM trunks and some carriers' SBCs do), checks that the 200 offers PCMA, answers it with
// PCMA in its ACK, runs MEDIA (a sipp action, or nothing), and hangs up after 3 s.
const delayedOfferScenario = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="delayed offer">
  <send retrans="500"><![CDATA[
INVITE sip:alice@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:cucm@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:alice@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:cucm@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true">
    <action>
      <ereg regexp="a=rtpmap:8 PCMA/8000" search_in="body" check_it="true" assign_to="pcma"/>
    </action>
  </recv>
  <send><![CDATA[
ACK sip:alice@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[last_From:]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:cucm@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=cucm 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8
a=rtpmap:8 PCMA/8000
a=ptime:20

]]></send>
MEDIA
  <pause milliseconds="3000"/>
  <send retrans="500"><![CDATA[
BYE sip:alice@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[last_From:]
[last_To:]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
  <Reference variables="pcma"/>
</scenario>
`

// TestDelayedOfferFromSipp: sipp calls `dialtone answer` with an INVITE without SDP. dialtone
// offers in its 200 (sipp checks PCMA is among the codecs), takes sipp's PCMA answer from the
// ACK, and the media runs as that answer says, in both directions, each checked as audio:
//   - sipp streams a 900 Hz A-law tone to the port our offer named: it is in dialtone's
//     recording, decoded as PCMA (the answered event's codec);
//   - sipp echoes what dialtone sends to the port its answer named: dialtone's 500 Hz comes
//     back into its recording.
//
// Before, dialtone refused such INVITEs 488.
func TestDelayedOfferFromSipp(t *testing.T) {
	t.Parallel()
	bin := sippPath(t)
	raw := filepath.Join(t.TempDir(), "cucm.alaw")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-e", "a-law", "-t", "raw", raw, "synth", "4", "sine", "900", "vol", "0.5").CombinedOutput(); err != nil {
		t.Skipf("sox: %v %s", err, out)
	}
	for _, c := range []struct {
		name  string
		media string   // the sipp action after the ACK
		flags []string // sipp's
		freq  float64  // what dialtone's recording must hold
	}{
		// sipp does not expand keywords in rtp_stream, so the file's path goes into the XML.
		{"sipp's tone reaches dialtone", `  <nop><action><exec rtp_stream="` + raw + `,1,8"/></action></nop>`, nil, 900},
		{"dialtone's tone goes where the ACK said", "", []string{"-rtp_echo"}, 500},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := filepath.Join(t.TempDir(), "heard.wav")
			alice := startDialtone(t, nil, "answer", "--listen", "127.0.0.1:0", "--auto", "--json", "--count", "1",
				"--audio", "null", "--play", makeTone(t, 500, 10, 8000), "--record", rec)
			addr := alice.waitEvent("listening", 10*time.Second).str("addr")
			xml := strings.Replace(delayedOfferScenario, "MEDIA", c.media, 1)
			args := append([]string{"-mi", "127.0.0.1", "-mp", strconv.Itoa(freeEvenUDPPort(t))}, c.flags...)
			out, errs, err := runSippScenario(t, bin, xml, addr, args...)
			if err != nil {
				t.Fatalf("sipp failed (%v): no 200 offering PCMA, or the call did not run\n%s\n%s\ndialtone:\n%s", err, errs, tail(string(out), 2000), alice.transcript())
			}
			code, evs := alice.wait(15 * time.Second)
			if code != 0 {
				t.Fatalf("exit %d, want 0\n%s", code, alice.transcript())
			}
			a, ok := findEvent(evs, "answered")
			if !ok || a.str("codec") != "PCMA" {
				t.Fatalf("answered %v, want the codec of sipp's answer in the ACK, PCMA\n%s", a, alice.transcript())
			}
			assertToneFor(t, c.name, rec, c.freq)
		})
	}
}
