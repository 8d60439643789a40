package interop

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestRingingCallPickedUp: call pickup (RFC 3891 §3). dialtone calls bob (sipp), who rings;
// carol (a second sipp) picks the call up with an INVITE whose Replaces names the early
// dialog bob's 180 made. dialtone answers carol at once with the call's audio, cancels the
// INVITE to bob, and the headless call follows the new call ("replaced", then "answered")
// to its end: carol's tone is in dialtone's recording, and the exit code is 0. Before,
// dialtone answered such an INVITE 481.
func TestRingingCallPickedUp(t *testing.T) {
	t.Parallel()
	bin := sippPath(t)
	raw := filepath.Join(t.TempDir(), "carol.ulaw")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw", raw, "synth", "4", "sine", "900", "vol", "0.5").CombinedOutput(); err != nil {
		t.Skipf("sox: %v %s", err, out)
	}
	bob := peers.StartSippUAS(t, peers.SippOptions{Scenario: "uas_ring_forever"})
	rec := filepath.Join(t.TempDir(), "heard.wav")
	addr := "127.0.0.1:" + itoa(freeUDPPort(t)) // `call` says nothing of its SIP address
	d := startDialtone(t, nil, "call", bob.URI("bob"), "--json", "--listen", addr, "--audio", "null",
		"--play", makeTone(t, 500, 10, 8000), "--record", rec)
	d.waitEvent("ringing", 15*time.Second)

	// The early dialog as dialtone sees it: its INVITE's Call-ID and From tag, bob's To tag.
	var callID, ours, bobs string
	eventually(t, 5*time.Second, "bob's trace of the INVITE and its 180", func() (bool, string) {
		for _, e := range bob.Trace() {
			switch {
			case !e.Sent && strings.HasPrefix(e.Text, "INVITE "):
				callID, ours = header(e.Text, "Call-ID"), tagOf(header(e.Text, "From"))
			case e.Sent && strings.HasPrefix(e.Text, "SIP/2.0 180"):
				bobs = tagOf(header(e.Text, "To"))
			}
		}
		return callID != "" && ours != "" && bobs != "", bob.Messages()
	})
	replaces := callID + ";to-tag=" + ours + ";from-tag=" + bobs
	out, errs, err := runSippScenario(t, bin, pickupScenario(replaces, raw), addr, "-mp", itoa(freeUDPPort(t)))
	if err != nil {
		t.Fatalf("carol's pickup: %v\n%s\n%s\ndialtone:\n%s", err, out, errs, d.transcript())
	}
	code, rest := d.wait(20 * time.Second)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, d.transcript())
	}
	r, ok := findEvent(rest, "replaced")
	if !ok || r.str("new_call_id") == "" {
		t.Fatalf("no replaced event: %v\n%s", names(rest), d.transcript())
	}
	if a, ok := findEvent(rest, "answered"); !ok || a.str("call_id") != r.str("new_call_id") {
		t.Fatalf("answered %v, want the new call %s answered", a, r.str("new_call_id"))
	}
	if n := len(bob.Received("CANCEL")); n != 1 {
		t.Fatalf("bob received %d CANCELs, want 1 (the ringing INVITE cancelled)\n%s", n, bob.Log())
	}
	assertToneFor(t, "carol's audio in dialtone's recording", rec, 900)
}

// pickupScenario is carol's side: an INVITE with Replaces, the ACK of its 200, 3 s of a
// 900 Hz tone (raw, a u-law file: sipp does not expand keywords in rtp_stream), then BYE.
func pickupScenario(replaces, raw string) string {
	return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="pickup">
  <send retrans="500">
    <![CDATA[

      INVITE sip:alice@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:carol@[local_ip]:[local_port]>;tag=[pid]carol[call_number]
      To: <sip:alice@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:carol@[local_ip]:[local_port]>
      Replaces: ` + replaces + `
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=carol 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[

      ACK sip:alice@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:carol@[local_ip]:[local_port]>;tag=[pid]carol[call_number]
      To: <sip:alice@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <nop><action><exec rtp_stream="` + raw + `,1,0"/></action></nop>
  <pause milliseconds="3000"/>
  <send retrans="500">
    <![CDATA[

      BYE sip:alice@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:carol@[local_ip]:[local_port]>;tag=[pid]carol[call_number]
      To: <sip:alice@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
`
}
