package interop

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestGarbageDuringACall (issue 11, item 2): while dialtone talks to baresip, 10 000 datagrams
// of garbage — random bytes, truncated and oversized SIP, SIP with broken headers, RTP and RTCP
// with bad versions, lengths and payload types — go to its SIP port and to the call's RTP and
// RTCP ports (a seeded PRNG, so a failure can be replayed). The call must go on to its end with
// audio both ways (checked as audio), end normally, and the process must not crash.
func TestGarbageDuringACall(t *testing.T) {
	t.Parallel()
	const hz, bobHz, seconds, total = 1300, 700, 12, 10000
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", AutoAnswer: true, ToneHz: bobHz})
	tone := makeTone(t, hz, seconds+10, 8000)
	dir := t.TempDir()
	rec, trace := filepath.Join(dir, "from-bob.wav"), filepath.Join(dir, "call.trace")
	p := startDialtone(t, nil, "call", bob.AOR(), "--json", "--play", tone, "--record", rec,
		"--duration", fmt.Sprint(seconds, "s"), "--sip-trace", trace)
	p.waitEvent("answered", 20*time.Second)
	d := dialogFromTrace(t, trace)
	ip, port := sdpIn(t, trace, "send")
	rtp := netip.AddrPortFrom(netip.MustParseAddr(ip), uint16(port))
	rtcp := netip.AddrPortFrom(rtp.Addr(), rtp.Port()+1)
	sip := d.sipAddr
	if sip.Addr().IsUnspecified() { // dialtone listens on every interface: aim at loopback
		sip = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), sip.Port())
	}
	targets := []netip.AddrPort{sip, rtp, rtcp}

	conn := listenUDP4(t)
	rng := rand.New(rand.NewPCG(11, uint64(total)))
	start := time.Now()
	for i := range total {
		b := garbageDatagram(rng, d)
		if _, err := conn.WriteToUDPAddrPort(b, targets[i%len(targets)]); err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		if i%50 == 49 {
			time.Sleep(10 * time.Millisecond) // ~5000 a second: a flood, not a kernel buffer overflow
		}
	}
	t.Logf("sent %d garbage datagrams to %v in %v", total, targets, time.Since(start).Round(time.Millisecond))
	// What the kernel threw away before dialtone could read it (the RTP socket's receive
	// buffer overflows with the 60 KB datagrams): read while the socket still exists.
	time.Sleep(500 * time.Millisecond)
	kernelDrops := udpSocketDrops(t, rtp.Port())

	code, evs := p.wait(time.Duration(seconds+20) * time.Second)
	if code != 0 {
		t.Fatalf("call exit %d\n%s", code, p.transcript())
	}
	if h, ok := findEvent(evs, "hangup"); !ok || h.str("failure") != "" || h.str("by") != "local" {
		t.Errorf("hangup %v: want the normal end after --duration", h)
	}
	var dropped float64
	for _, e := range evs {
		if e.name() == "stats" && e["final"] == true {
			dropped = e.num("dropped")
		}
	}
	toRTP := float64(total / 3) // every third datagram, from the second on (i%3 == 1)
	t.Logf("to the RTP port: %.0f garbage datagrams; dropped and counted by dialtone: %.0f, dropped by the kernel (receive buffer full): %d",
		toRTP, dropped, kernelDrops)
	// Every one is accounted for: read and counted, or never delivered. A few more may be
	// counted (late or duplicate frames of the real stream count as dropped too).
	if got := dropped + float64(kernelDrops); got < toRTP || dropped > toRTP+50 {
		t.Errorf("dropped %.0f + kernel %d = %.0f: want the %.0f garbage datagrams sent to the RTP port", dropped, kernelDrops, got, toRTP)
	}
	if s := toneSeconds(t, rec, bobHz); s < seconds-3 {
		t.Errorf("dialtone heard %.0f Hz for %.2f s of a %d s call", float64(bobHz), s, seconds)
	}
	if s := toneSeconds(t, lastRecording(t, bob), hz); s < seconds-3 {
		t.Errorf("baresip heard %.0f Hz for %.2f s of a %d s call", float64(hz), s, seconds)
	}
}

// garbageDatagram is one of several kinds of bad input, chosen by rng.
func garbageDatagram(rng *rand.Rand, d dialogInfo) []byte {
	random := func(n int) []byte {
		b := make([]byte, n+8)
		for i := 0; i < n; i += 8 { // 8 bytes a draw: the 60 KB ones stay cheap under -race
			binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
		}
		return b[:n]
	}
	invite := fmt.Sprintf("INVITE sip:x@%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK%d\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: %d\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		d.sipAddr, rng.Uint64(), rng.Uint64())
	switch rng.UintN(8) {
	case 0:
		return random(1 + int(rng.UintN(1400)))
	case 1: // a truncated request
		return []byte(invite[:1+rng.UintN(uint(len(invite)-1))])
	case 2: // an oversized one: 60 KB of header
		return append([]byte(invite[:len(invite)-2]+"X-Pad: "), append(random(60000), "\r\n\r\n"...)...)
	case 3: // broken headers and a lying Content-Length
		return []byte(fmt.Sprintf("BYE sip:x SIP/2.0\r\nVia: ;;;\r\nCSeq: -1 BYE\r\nCall-ID: %s\r\nContent-Length: 99999\r\n\r\nx", d.callID))
	case 4: // a response nobody asked for
		return []byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKnothing\r\nCSeq: 7 INVITE\r\n\r\n")
	case 5: // RTP-like, version 2, random payload type and length
		b := random(12 + int(rng.UintN(300)))
		b[0] = 0x80 | byte(rng.UintN(16))
		return b
	case 6: // RTCP-like with a length field that lies
		b := random(8 + int(rng.UintN(100)))
		b[0], b[1], b[2], b[3] = 0x81, 200+byte(rng.UintN(5)), 0xff, 0xff
		return b
	default: // STUN-like header with garbage attributes
		b := random(20 + int(rng.UintN(200)))
		b[0], b[1], b[4], b[5], b[6], b[7] = 0x00, 0x01, 0x21, 0x12, 0xa4, 0x42
		return b
	}
}

// udpSocketDrops is the kernel's drop count (the drops column of /proc/net/udp and udp6) of
// the UDP socket bound to port: datagrams that arrived while its receive buffer was full.
func udpSocketDrops(t *testing.T, port uint16) int {
	t.Helper()
	socks, err := peers.UDPSockets("udp", "udp6")
	if err != nil {
		t.Fatal(err)
	}
	total, found := 0, false
	for _, s := range socks {
		if s.Port == int(port) {
			total, found = total+int(s.Drops), true
		}
	}
	if !found {
		t.Fatalf("no UDP socket on port %d in /proc/net/udp{,6}", port)
	}
	return total
}
