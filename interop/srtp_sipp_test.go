package interop

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// badCryptoScenario is a sipp UAC that offers RTP/SAVP with the a=crypto line CRYPTO and
// expects 488 with a Warning whose text matches WARNING (sipp fails the call otherwise).
const badCryptoScenario = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="bad a=crypto">
  <send retrans="500"><![CDATA[
INVITE sip:alice@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:alice@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=- 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio [media_port] RTP/SAVP 0
a=rtpmap:0 PCMU/8000
a=crypto:CRYPTO

]]></send>
  <recv response="100" optional="true"/>
  <recv response="488">
    <action>
      <ereg regexp="WARNING" search_in="hdr" header="Warning:" check_it="true" assign_to="w"/>
    </action>
  </recv>
  <send><![CDATA[
ACK sip:alice@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
[last_From:]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <Reference variables="w"/>
</scenario>
`

// TestBadCryptoFromSipp: sipp offers RTP/SAVP with a malformed a=crypto line (bad base64), then
// with only a suite dialtone does not have; dialtone answer refuses each before ringing with
// 488 and a Warning that says why (306), reports the call as ended insecure, and stays up for
// the next call.
func TestBadCryptoFromSipp(t *testing.T) {
	t.Parallel()
	bin := sippPath(t)
	alice := startDialtone(t, nil, "answer", "--listen", "127.0.0.1:0", "--auto", "--json", "--count", "1", "--audio", "null")
	addr := alice.waitEvent("listening", 10*time.Second).str("addr")
	for _, c := range []struct{ crypto, warning string }{
		{"1 AES_CM_128_HMAC_SHA1_80 inline:not*base64!!", `306 dialtone "Malformed a=crypto"`},
		{"1 F8_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj", `306 dialtone "No common SRTP crypto suite"`},
	} {
		xml := strings.NewReplacer("CRYPTO", c.crypto, "WARNING", strings.ReplaceAll(c.warning, `"`, `\"`)).Replace(badCryptoScenario)
		out, errs, err := runSippScenario(t, bin, xml, addr, "-t", "u1", "-mi", "127.0.0.1", "-mp", strconv.Itoa(freeEvenUDPPort(t)))
		if err != nil {
			t.Fatalf("%s: sipp failed (%v): the answer was not 488 with %s\n%s\n%s", c.crypto, err, c.warning, errs, tail(string(out), 2000))
		}
		h := alice.waitEvent("hangup", 10*time.Second)
		if h.str("failure") != "insecure" || h.num("code") != 488 {
			t.Errorf("%s: hangup %v, want 488 insecure", c.crypto, h)
		}
	}
	// A refused call does not count towards --count: answer still waits for a call to take.
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
