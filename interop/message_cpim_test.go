package interop

import (
	"testing"
	"time"
)

// cpimScenario: sipp sends a MESSAGE wrapped in CPIM (RFC 3862, as IMDN-capable clients such as
// Linphone send them), then one in ISO-8859-1 (older gateways), and expects 200 for both.
const cpimScenario = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="cpim and latin-1 messages">
  <send retrans="500">
    <![CDATA[

      MESSAGE sip:alice@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From: <sip:carol@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: <sip:alice@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 MESSAGE
      Content-Type: message/cpim
      Content-Length: [len]

      From: <sip:carol@[local_ip]>
      To: <sip:alice@[remote_ip]>
      DateTime: 2026-12-07T10:00:00Z
      NS: imdn <urn:ietf:params:imdn>
      imdn.Message-ID: Sf23k4
      imdn.Disposition-Notification: positive-delivery

      Content-Type: text/plain;charset=UTF-8

      wrapped in cpim

    ]]>
  </send>
  <recv response="200" timeout="5000"/>
  <send retrans="500">
    <![CDATA[

      MESSAGE sip:alice@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From: <sip:carol@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: <sip:alice@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 2 MESSAGE
      Content-Type: text/plain; charset=ISO-8859-1
      Content-Length: [len]

      from an old gateway

    ]]>
  </send>
  <recv response="200" timeout="5000"/>
</scenario>
`

// TestMessagesInCPIMAndLatin1FromSipp: a CPIM-wrapped message and an ISO-8859-1 one, both
// refused with 415 before, are answered 200 and shown as their text.
func TestMessagesInCPIMAndLatin1FromSipp(t *testing.T) {
	t.Parallel()
	bin := sippPath(t)
	alice := startDialtone(t, nil, "answer", "--listen", "127.0.0.1:0", "--auto", "--json", "--count", "1", "--audio", "null")
	addr := alice.waitEvent("listening", 10*time.Second).str("addr")
	out, errs, err := runSippScenario(t, bin, cpimScenario, addr)
	if err != nil {
		t.Fatalf("sipp: %v\n%s\n%s\n%s", err, out, errs, alice.transcript())
	}
	// sipp's body ends with the scenario's line break, which the plain message keeps as sent.
	for _, want := range []string{"wrapped in cpim", "from an old gateway\r\n"} {
		if got := alice.waitEvent("message_received", 10*time.Second).str("text"); got != want {
			t.Fatalf("shown %q, want %q", got, want)
		}
	}
}
