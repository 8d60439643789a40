package media

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/codec"
	"github.com/dialtone/dialtone/phone/srtp"
)

// tapped keeps copies of what a tap saw.
type tapped struct {
	mu   sync.Mutex
	pkts []TapPacket
}

func (tp *tapped) tap(p TapPacket) {
	p.Data = append([]byte(nil), p.Data...)
	tp.mu.Lock()
	tp.pkts = append(tp.pkts, p)
	tp.mu.Unlock()
}

func (tp *tapped) all() []TapPacket {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]TapPacket(nil), tp.pkts...)
}

// TestTapSeesPlainPackets: on an SRTP call, the tap gets every RTP packet the session sent
// and received as plain RTP (parsed: the µ-law payload of 160 bytes, no tag), marked
// decrypted, with the session's and the far end's addresses (the received payloads decode to
// the far end's tone); and its RTCP both ways, plain.
func TestTapSeesPlainPackets(t *testing.T) {
	var tp tapped
	lo := netip.MustParseAddr("127.0.0.1")
	a, b := openPairWith(t, Config{IP: lo, Tap: tp.tap})
	ka, kb := swappedKeys(t, srtp.AESCM128HMACSHA180)
	pa := Params{Remote: b.LocalAddr(), Codec: codec.PCMU, DTMFPT: 101, Send: true, Receive: true,
		Source: audiotest.NewTone(1000, 0.5), Sink: audiotest.NewRecorder(), SRTP: ka}
	a.Start(pa)
	b.Start(Params{Remote: a.LocalAddr(), Codec: codec.PCMU, DTMFPT: 101, Send: true, Receive: true,
		Source: audiotest.NewTone(1500, 0.5), Sink: audiotest.NewRecorder(), SRTP: kb})
	time.Sleep(time.Second) // real time: this is the network path, not a timed assertion
	// RTCP both ways now, rather than after its first 5 s interval.
	var buf [rtcpReportMax + srtcpTrailerMax]byte
	for _, s := range []*Session{b, a} {
		s.frameMu.Lock() // as the pacer does when it sends a report
		s.sendRTCP(s.current(), time.Now(), buf[:])
		s.frameMu.Unlock()
	}
	time.Sleep(200 * time.Millisecond)
	b.Close()
	a.Close()

	st := a.Stats()
	bRTCP := netip.AddrPortFrom(b.LocalAddr().Addr(), b.LocalAddr().Port()+1)
	var sent, recv, rtcpSent, rtcpRecv int
	var ssrcOut, ssrcIn uint32
	dec := codec.PCMU.NewDecoder()
	var heard []int16 // what the tapped received packets play: b's tone if they are plain
	frame := make([]int16, 160)
	for _, p := range tp.all() {
		if !p.Decrypted || p.Local.Addr() != lo {
			t.Fatalf("tapped %+v: want decrypted, from the session's address", p)
		}
		if p.RTCP {
			if _, err := rtcp.Unmarshal(p.Data); err != nil {
				t.Errorf("tapped RTCP (sent %v) is not plain RTCP: %v", p.Sent, err)
			}
			if p.Remote != bRTCP || p.Local.Port() != a.LocalAddr().Port()+1 {
				t.Errorf("RTCP between %v and %v, want %v and port %d", p.Local, p.Remote, bRTCP, a.LocalAddr().Port()+1)
			}
			if p.Sent {
				rtcpSent++
			} else {
				rtcpRecv++
			}
			continue
		}
		var pkt rtp.Packet
		if err := pkt.Unmarshal(p.Data); err != nil || pkt.PayloadType != 0 || len(pkt.Payload) != 160 || len(p.Data) != 172 {
			t.Fatalf("tapped RTP (sent %v): %d bytes, PT %d, payload %d, err %v: want plain PCMU", p.Sent, len(p.Data), pkt.PayloadType, len(pkt.Payload), err)
		}
		if p.Remote != b.LocalAddr() || p.Local != a.LocalAddr() {
			t.Errorf("RTP between %v and %v, want %v and %v", p.Local, p.Remote, a.LocalAddr(), b.LocalAddr())
		}
		if p.Sent {
			sent++
			ssrcOut = pkt.SSRC
		} else {
			recv++
			ssrcIn = pkt.SSRC
			if n, err := dec.Decode(frame, pkt.Payload); err == nil {
				heard = append(heard, frame[:n]...)
			}
		}
	}
	if uint64(sent) != st.PacketsSent || uint64(recv) < st.PacketsReceived || recv == 0 || ssrcIn == ssrcOut {
		t.Errorf("tapped %d sent, %d received; stats %+v", sent, recv, st)
	}
	if found, lvl, _ := audiotest.DetectTone(heard, 8000, 1500); !found || lvl < -12 {
		t.Errorf("the tapped received RTP does not carry the far end's 1500 Hz tone (level %.1f dBFS): not plain", lvl)
	}
	if rtcpSent == 0 || rtcpRecv == 0 {
		t.Errorf("tapped RTCP: %d sent, %d received", rtcpSent, rtcpRecv)
	}
}

// TestTapAllocs: the tap points cost no allocation, with a tap or without.
func TestTapAllocs(t *testing.T) {
	a, b := openPair(t)
	p := Params{Remote: b.LocalAddr(), Codec: codec.PCMU}
	pkt := make([]byte, 172)
	pkt[0] = 0x80
	var parsed rtp.Packet
	if err := parsed.Unmarshal(pkt); err != nil {
		t.Fatal(err)
	}
	from := b.LocalAddr()
	round := func() {
		a.tapRTPOut(p, pkt)
		a.tapRTPIn(p, pkt, &parsed, from)
		a.tapRTCPIn(p, a.tapRTCPOut(p, pkt[:28]))
	}
	if n := testing.AllocsPerRun(100, round); n != 0 {
		t.Errorf("without a tap: %.1f allocations", n)
	}
	var seen int
	a.cfg.Tap = func(TapPacket) { seen++ }
	if n := testing.AllocsPerRun(100, round); n != 0 || seen == 0 {
		t.Errorf("with a tap: %.1f allocations (%d tapped)", n, seen)
	}
}
