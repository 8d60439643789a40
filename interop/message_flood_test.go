package interop

import (
	"math"
	"path/filepath"
	"testing"
	"time"
)

// messageFloodScenario is a sipp UAC scenario sending one MESSAGE per call from one sender,
// each answered 200 or refused 480.
const messageFloodScenario = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="message flood">
  <send retrans="500">
    <![CDATA[

      MESSAGE sip:alice@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From: <sip:flood@[local_ip]>;tag=[pid]M[call_number]
      To: <sip:alice@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 MESSAGE
      Content-Type: text/plain
      Content-Length: [len]

      flood message [call_number]
    ]]>
  </send>
  <recv response="200" optional="true" next="end"/>
  <recv response="480"/>
  <label id="end"/>
</scenario>
`

// TestMessageFloodIsRefused: sipp sends 80 MESSAGEs from one sender at 200 a second to
// `dialtone answer`: the first 30 (a sender's budget at once, and what the refill adds while
// they come) are taken, shown and kept in the history; the rest get 480 with a Retry-After.
// Every one was stored (a disk sync each) and shown: a flood filled the disk and the list.
func TestMessageFloodIsRefused(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	d := startDialtone(t, nil, "answer", "--listen", "127.0.0.1:0", "--json", "--data-dir", data, "--audio", "null")
	addr := d.waitEvent("listening", 10*time.Second).str("addr")
	const sent, rate = 80, 200
	f := startFlood(t, messageFloodScenario, addr, rate, sent, 0)
	f.wait(t, 30*time.Second)
	matches, _ := filepath.Glob(filepath.Join(f.dir, "*_counts.csv"))
	if len(matches) != 1 {
		t.Fatalf("sipp counts file: found %v\n%s", matches, f.console())
	}
	rows := readSippCSV(t, matches[0])
	last := rows[len(rows)-1]
	ok, refused := last.first("_200_Recv"), last.first("_480_Recv")
	// 30 at once, and 2 a second more while the flood lasted (sipp's elapsed time, rounded up).
	most := 30 + 2*int(math.Ceil(sippElapsed(last["ElapsedTime"]))) + 1
	if ok < 30 || ok > most || ok+refused != sent {
		t.Fatalf("%d taken and %d refused of %d; want 30 to %d taken, the rest refused\n%s", ok, refused, sent, most, f.console())
	}
	shown := 0
	for deadline := time.After(3 * time.Second); ; {
		select {
		case e := <-d.events:
			if e.name() == "message_received" {
				shown++
			}
			continue
		case <-deadline:
		}
		break
	}
	if shown != ok {
		t.Fatalf("%d messages shown, want the %d taken\n%s", shown, ok, d.transcript())
	}
}
