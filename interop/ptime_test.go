package interop

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
	"github.com/dialtone/dialtone/phone/pcap"
	"github.com/pion/rtp"
)

// TestBaresipSends30msPackets: with --ptime 30 our offer asks for 30 ms packets, and baresip
// sends them (it follows the far end's a=ptime). Every one of them plays whole: no frame is
// concealed on a clean loopback call, and the far end's tone is in the recording. Before,
// each 30 ms packet was filed as one 20 ms frame: a third of the far end's audio was cut off
// and every third frame concealed.
func TestBaresipSends30msPackets(t *testing.T) {
	t.Parallel()
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", AutoAnswer: true, ToneHz: 700, Codecs: []string{"pcmu"}})
	dir := t.TempDir()
	tone, file, rec := makeTone(t, 1300, 20, 8000), filepath.Join(dir, "call.pcapng"), filepath.Join(dir, "from-bob.wav")
	code, evs, p := runDialtone(t, 40*time.Second, nil, "call", "sip:bob@127.0.0.1:"+strconv.Itoa(bob.SIPPort()), "--json",
		"--codecs", "PCMU", "--ptime", "30", "--play", tone, "--record", rec, "--duration", "5s", "--pcap", file, "--pcap-rtp")
	if code != 0 {
		t.Fatalf("exit %d\n%s\nbaresip:\n%s", code, p.transcript(), bob.Log())
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip saw no hangup: %v", err)
	}
	offer, answer := inviteBodies(bob)
	if !strings.Contains(offer, "a=ptime:30\r\n") {
		t.Fatalf("the offer does not ask for 30 ms packets:\n%s", offer)
	}
	ourPort, _ := sdpMedia(t, offer, "PCMU")
	bobPort, _ := sdpMedia(t, answer, "PCMU")

	// What baresip sent, as captured: PCMU packets of 240 octets (30 ms), not 160.
	sizes := rtpPayloadSizes(t, file, bobPort, ourPort, 0)
	if sizes[240] < 100 || len(sizes) != 1 {
		t.Fatalf("baresip's PCMU packets by payload size %v: want only 240 octets (30 ms), over 100 of them", sizes)
	}
	final, ok := lastEvent(evs, "stats")
	if !ok || final["final"] != true {
		t.Fatalf("no final stats: %v", names(evs))
	}
	if got := final.num("concealed"); got > 2 {
		t.Errorf("%v frames concealed of a clean call's %v packets received: 30 ms packets are not played whole", got, final.num("packets_received"))
	}
	if h, ok := findEvent(evs, "hangup"); !ok || h.num("loss_pct") > 1 {
		t.Errorf("hangup %v: want loss under 1 %%", h)
	}
	assertTone(t, rec, 700, 3) // dialtone heard baresip
}

// TestDialtoneSendsThePtimeBaresipAsks: baresip's account asks for 30 ms packets (a=ptime:30 in
// its offer: as the answerer baresip 1.0 repeats the offer's ptime instead); dialtone answers
// and sends its audio in 240-octet PCMU packets, as its own capture shows, and baresip hears
// dialtone's tone. Before, dialtone sent 20 ms packets whatever the far end asked.
func TestDialtoneSendsThePtimeBaresipAsks(t *testing.T) {
	t.Parallel()
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", ToneHz: 700, Codecs: []string{"pcmu"}, Ptime: 30})
	dir := t.TempDir()
	tone, file := makeTone(t, 1300, 20, 8000), filepath.Join(dir, "call.pcapng")
	d := startDialtone(t, nil, "answer", "--auto", "--count", "1", "--json", "--listen", "127.0.0.1:0", "--codecs", "PCMU",
		"--play", tone, "--record", filepath.Join(dir, "from-bob.wav"), "--pcap", file, "--pcap-rtp")
	addr := d.waitEvent("listening", 15*time.Second).str("addr")
	if err := bob.Dial("sip:dialtone@" + addr); err != nil {
		t.Fatal(err)
	}
	d.waitEvent("answered", 15*time.Second)
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("baresip: %v\n%s", err, bob.Log())
	}
	time.Sleep(5 * time.Second) // let audio flow: this is the call itself, not a timing assertion
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	if code, _ := d.wait(20 * time.Second); code != 0 {
		t.Fatalf("answer exit %d\n%s", code, d.transcript())
	}
	offer, answer := inviteBodies(bob)
	if !strings.Contains(offer, "a=ptime:30\r\n") {
		t.Fatalf("baresip's offer does not ask for 30 ms packets:\n%s", offer)
	}
	bobPort, _ := sdpMedia(t, offer, "PCMU")
	ourPort, _ := sdpMedia(t, answer, "PCMU")
	if sizes := rtpPayloadSizes(t, file, ourPort, bobPort, 0); sizes[240] < 100 || len(sizes) != 1 {
		t.Fatalf("our PCMU packets by payload size %v: want only 240 octets (30 ms), over 100 of them", sizes)
	}
	// Each left 30 ms after the one before, not 20 and 40 ms apart (the median of such
	// alternation is 20 or 40): the median is robust against a busy machine's late ticks.
	if gap := medianGap(rtpPacketsSeen(t, file, ourPort, bobPort, 0)); gap < 27*time.Millisecond || gap > 33*time.Millisecond {
		t.Fatalf("our 30 ms packets left a median %v apart, want 30 ms", gap)
	}
	assertTone(t, lastRecording(t, bob), 1300, 3) // baresip heard dialtone
}

// inviteBodies is the SDP of the INVITE and of its 200 as baresip's own trace has them.
func inviteBodies(b *peers.Baresip) (offer, answer string) {
	for _, m := range b.SIPTrace() {
		if m.Method() == "INVITE" && m.IsRequest() {
			offer = m.Body()
		} else if m.Method() == "INVITE" && m.StatusCode() == 200 {
			answer = m.Body()
		}
	}
	return offer, answer
}

// rtpPayloadSizes counts the RTP packets of payload type pt captured in file from port src to
// port dst by their payload size.
func rtpPayloadSizes(t *testing.T, file string, src, dst, pt int) map[int]int {
	t.Helper()
	sizes := map[int]int{}
	for _, p := range rtpPacketsSeen(t, file, src, dst, pt) {
		sizes[p.size]++
	}
	return sizes
}

// rtpPacketSeen is one RTP packet of a capture: its payload's size and when it was captured.
type rtpPacketSeen struct {
	size int
	at   time.Time
}

// rtpPacketsSeen lists the RTP packets of payload type pt captured in file from port src to port
// dst, in the capture's order.
func rtpPacketsSeen(t *testing.T, file string, src, dst, pt int) []rtpPacketSeen {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := pcap.NewReader(f)
	if err != nil {
		t.Fatalf("capture %s: %v", file, err)
	}
	var out []rtpPacketSeen
	for {
		pkt, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("capture %s: %v", file, err)
		}
		d, ok := pcap.Decode(pkt)
		if !ok || d.TCP || int(d.Src.Port()) != src || int(d.Dst.Port()) != dst {
			continue
		}
		var r rtp.Packet
		if r.Unmarshal(d.Payload) == nil && int(r.PayloadType) == pt {
			out = append(out, rtpPacketSeen{size: len(r.Payload), at: pkt.Time})
		}
	}
}

// medianGap is the median time between consecutive packets of ps.
func medianGap(ps []rtpPacketSeen) time.Duration {
	var gaps []time.Duration
	for i := 1; i < len(ps); i++ {
		gaps = append(gaps, ps[i].at.Sub(ps[i-1].at))
	}
	if len(gaps) == 0 {
		return 0
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}
