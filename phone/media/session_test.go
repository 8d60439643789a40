package media

import (
	"math"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// openSession opens a session with cfg on 127.0.0.1 (cfg.IP is set); closed at cleanup.
func openSession(t *testing.T, cfg Config) *Session {
	t.Helper()
	cfg.IP = netip.MustParseAddr("127.0.0.1")
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// noTicks is a Config.NewTicker that never ticks: the pacer never runs, and the test sends and
// plays each frame itself.
func noTicks(time.Duration) (<-chan time.Time, func()) { return nil, func() {} }

func openPair(t *testing.T) (*Session, *Session) {
	t.Helper()
	return openPairWith(t, Config{IP: netip.MustParseAddr("127.0.0.1")})
}

// openPairWith is openPair with a's configuration given (on 127.0.0.1); closed at cleanup.
func openPairWith(t *testing.T, aCfg Config) (*Session, *Session) {
	t.Helper()
	lo := netip.MustParseAddr("127.0.0.1")
	a, err := Open(aCfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(Config{IP: lo})
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// TestTwoSessionsCarryTonesBothWays is the component test of the whole media path: tone
// source -> G.711 -> RTP over 127.0.0.1 -> jitter buffer -> decoder -> recorder, both ways,
// checked with a Goertzel detector.
func TestTwoSessionsCarryTonesBothWays(t *testing.T) {
	for _, c := range []codec.Codec{codec.PCMU, codec.PCMA} {
		t.Run(c.Name(), func(t *testing.T) {
			a, b := openPair(t)
			recA, recB := audiotest.NewRecorder(), audiotest.NewRecorder()
			a.Start(Params{Remote: b.LocalAddr(), Codec: c, DTMFPT: 101, Send: true, Receive: true,
				Source: audiotest.NewTone(1000, 0.5), Sink: recA})
			b.Start(Params{Remote: a.LocalAddr(), Codec: c, DTMFPT: 101, Send: true, Receive: true,
				Source: audiotest.NewTone(1500, 0.5), Sink: recB})
			time.Sleep(1500 * time.Millisecond) // real time: this is the network path, not a timed assertion
			for _, x := range []struct {
				rec  *audiotest.Recorder
				want float64
				not  float64
			}{{recA, 1500, 1000}, {recB, 1000, 1500}} {
				s := x.rec.Samples()
				if len(s) < 8000 {
					t.Fatalf("only %d samples recorded", len(s))
				}
				s = s[len(s)/3:] // skip the jitter buffer's start-up
				if found, lvl, snr := audiotest.DetectTone(s, 8000, x.want); !found || lvl < -12 {
					t.Fatalf("no %v Hz tone: level %.1f dBFS snr %.1f", x.want, lvl, snr)
				}
				// Our own tone must not come back: its power is at quantisation-noise level,
				// at least 40 dB under the far end's.
				want, own := audiotest.Goertzel(s, 8000, x.want), audiotest.Goertzel(s, 8000, x.not)
				if own*1e4 > want {
					t.Fatalf("our own %v Hz tone is only %.1f dB under the far end's", x.not, 10*math.Log10(want/own))
				}
			}
			st := a.Stats()
			// Loopback loses nothing, but a starved scheduler can make a packet or two late.
			if st.PacketsSent < 50 || st.PacketsReceived < 50 || st.Lost+st.Late > 3 || st.Dropped != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestDTMFBothWays(t *testing.T) {
	a, b := openPair(t)
	a.Start(Params{Remote: b.LocalAddr(), Codec: codec.PCMU, DTMFPT: 101, Send: true, Receive: true})
	b.Start(Params{Remote: a.LocalAddr(), Codec: codec.PCMU, DTMFPT: 101, Send: true, Receive: true})
	for _, d := range "15#*" {
		if err := a.SendDTMF(d); err != nil {
			t.Fatal(err)
		}
	}
	var got []rune
	deadline := time.After(5 * time.Second)
	for len(got) < 4 {
		select {
		case ev := <-b.Events():
			if ev.Digit != 0 {
				got = append(got, ev.Digit)
			}
		case <-deadline:
			t.Fatalf("digits received %q, want 15#*", string(got))
		}
	}
	if string(got) != "15#*" {
		t.Fatalf("digits %q, want 15#*", string(got))
	}
	if err := a.SendDTMF('x'); err == nil {
		t.Fatal("x accepted as a DTMF digit")
	}
}

// TestDTMFReceivedOnTheOfferedPayloadType: our offer named telephone-event 101, the answer
// 96. We send with 96; RFC 3264 has the far end send us our 101, and some send their own 96:
// both arrive as digits, and audio (PT 0) is never taken for one.
func TestDTMFReceivedOnTheOfferedPayloadType(t *testing.T) {
	for _, farPT := range []int{101, 96} {
		a, b := openPair(t)
		a.Start(Params{Remote: b.LocalAddr(), Codec: codec.PCMU, DTMFPT: farPT, Send: true, Receive: true})
		b.Start(Params{Remote: a.LocalAddr(), Codec: codec.PCMU, DTMFPT: 96, RecvDTMFPT: 101, Send: true, Receive: true})
		if err := a.SendDTMFString("7#"); err != nil {
			t.Fatal(err)
		}
		var got []rune
		deadline := time.After(5 * time.Second)
		for len(got) < 2 {
			select {
			case ev := <-b.Events():
				if ev.Digit != 0 {
					got = append(got, ev.Digit)
				}
			case <-deadline:
				t.Fatalf("far end sending PT %d: digits %q, want 7#", farPT, string(got))
			}
		}
		if string(got) != "7#" {
			t.Fatalf("far end sending PT %d: digits %q, want 7#", farPT, string(got))
		}
	}
	if (Params{DTMFPT: -1}).isDTMF(0) {
		t.Fatal("PCMU taken for telephone-event with no RecvDTMFPT")
	}
}

// sendTone sends n PCMU packets of a loud 1 kHz tone from conn to dst.
func sendTone(t *testing.T, conn *net.UDPConn, dst netip.AddrPort, ssrc uint32, first, n int) {
	t.Helper()
	payload := make([]byte, 160)
	codec.PCMU.EncodeTo(payload, audiotest.NewTone(1000, 0.9).Samples(160))
	for i := first; i < first+n; i++ {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: ssrc}, Payload: payload}
		b, _ := p.Marshal()
		if _, err := conn.WriteToUDPAddrPort(b, dst); err != nil {
			t.Fatal(err)
		}
	}
}

func udpSocket(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestPacketsFromStrangersAreDroppedNotPlayed(t *testing.T) {
	for _, strict := range []bool{false, true} {
		t.Run(map[bool]string{false: "after the far end spoke", true: "strict source"}[strict], func(t *testing.T) {
			a, b := openPair(t)
			rec := audiotest.NewRecorder()
			b.Start(Params{Remote: a.LocalAddr(), Codec: codec.PCMU, DTMFPT: -1, Receive: true, Sink: rec, StrictSource: strict})
			if !strict {
				// The far end's first packet (silence) latches the stream to it.
				p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 1, SSRC: 5}, Payload: make([]byte, 160)}
				pb, _ := p.Marshal()
				a.rtpConn.WriteToUDPAddrPort(pb, b.LocalAddr())
				time.Sleep(50 * time.Millisecond)
			}
			before := b.Stats().PacketsReceived
			// An attacker on another port sends loud audio to b.
			sendTone(t, udpSocket(t), b.LocalAddr(), 7, 0, 50)
			// Malformed datagrams from the right peer are dropped too.
			a.rtpConn.WriteToUDPAddrPort([]byte{0x80}, b.LocalAddr())
			a.rtpConn.WriteToUDPAddrPort([]byte{0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, b.LocalAddr())
			time.Sleep(500 * time.Millisecond)
			st := b.Stats()
			if st.Dropped < 52 || st.PacketsReceived != before {
				t.Fatalf("stats %+v: want 52 dropped, nothing more received", st)
			}
			if found, _, _ := audiotest.DetectTone(rec.Samples(), 8000, 1000); found {
				t.Fatal("a stranger's audio was played")
			}
		})
	}
}

// TestLatchingFollowsAFarEndBehindNAT: the far end's SDP names an address its packets never
// come from (its private LAN address); its RTP arrives from elsewhere (its NAT). The stream
// latches on to that source, plays it, sends our audio back there, and then refuses a third
// source.
func TestLatchingFollowsAFarEndBehindNAT(t *testing.T) {
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	farEnd := udpSocket(t)
	rec := audiotest.NewRecorder()
	private := netip.MustParseAddrPort("127.0.0.1:9") // nobody sends from the discard port
	s.Start(Params{Remote: private, Codec: codec.PCMU, DTMFPT: -1, Send: true, Receive: true,
		Source: audiotest.NewTone(1500, 0.5), Sink: rec})
	sendTone(t, farEnd, s.LocalAddr(), 11, 0, 1)
	// What we send must now reach the far end's real address.
	farEnd.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 1500)
	var got []int16
	for len(got) < 8000 {
		n, from, err := farEnd.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("no RTP from us at the latched address: %v (got %d samples)", err, len(got))
		}
		if from != s.LocalAddr() {
			continue
		}
		var p rtp.Packet
		if p.Unmarshal(buf[:n]) != nil || p.PayloadType != 0 {
			continue
		}
		pcm := make([]int16, len(p.Payload))
		codec.PCMU.DecodeTo(pcm, p.Payload)
		got = append(got, pcm...)
	}
	if found, lvl, _ := audiotest.DetectTone(got, 8000, 1500); !found {
		t.Fatalf("our tone did not reach the latched far end (%.1f dBFS)", lvl)
	}
	if l := s.Latched(); l != farEnd.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Fatalf("Latched() = %v, want the far end's socket", l)
	}
	sendTone(t, farEnd, s.LocalAddr(), 11, 1, 40)
	received := s.Stats().PacketsReceived
	dropped := s.Stats().Dropped
	sendTone(t, udpSocket(t), s.LocalAddr(), 99, 0, 20) // a third address after latching
	time.Sleep(300 * time.Millisecond)
	st := s.Stats()
	if st.Dropped-dropped < 20 {
		t.Fatalf("a third source after latching was not dropped: %+v", st)
	}
	if st.PacketsReceived < received {
		t.Fatalf("received went backwards: %+v", st)
	}
	if found, _, _ := audiotest.DetectTone(rec.Samples(), 8000, 1000); !found {
		t.Fatal("the latched far end's tone was not played")
	}
}

// TestStrictSourceDoesNotLatch: with latching off, RTP from anywhere but the SDP address is
// dropped even before the far end has spoken.
func TestStrictSourceDoesNotLatch(t *testing.T) {
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Start(Params{Remote: netip.MustParseAddrPort("127.0.0.1:9"), Codec: codec.PCMU, DTMFPT: -1, Receive: true, StrictSource: true})
	sendTone(t, udpSocket(t), s.LocalAddr(), 3, 0, 10)
	time.Sleep(200 * time.Millisecond)
	if st := s.Stats(); st.PacketsReceived != 0 || st.Dropped < 10 || s.Latched().IsValid() {
		t.Fatalf("strict source latched: %+v latched %v", st, s.Latched())
	}
}

func TestSSRCSwitchOnlyAfterSilence(t *testing.T) {
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	peer := netip.MustParseAddrPort("127.0.0.1:40000")
	now := time.Unix(1000, 0)
	s.now = func() time.Time { return now }
	s.Update(Params{Remote: peer, Codec: codec.PCMU, DTMFPT: -1})
	send := func(ssrc uint32, seq uint16) {
		p := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: ssrc, SequenceNumber: seq, Timestamp: uint32(seq) * 160}, Payload: make([]byte, 160)}
		b, _ := p.Marshal()
		var pkt rtp.Packet
		s.handleRTP(b, peer, &pkt)
	}
	send(1, 1)
	now = now.Add(20 * time.Millisecond)
	send(2, 1) // interleaved second stream: dropped
	if d := s.Stats().Dropped; d != 1 {
		t.Fatalf("dropped %d, want the interleaved packet dropped", d)
	}
	now = now.Add(time.Second)
	send(2, 2) // the first stream went quiet: follow the new one
	if d, r := s.Stats().Dropped, s.Stats().PacketsReceived; d != 1 || r != 2 {
		t.Fatalf("dropped %d received %d, want the restarted stream accepted", d, r)
	}
}

func TestMuteSendsSilenceAndKeepsTheStream(t *testing.T) {
	a, b := openPair(t)
	rec := audiotest.NewRecorder()
	a.Start(Params{Remote: b.LocalAddr(), Codec: codec.PCMU, DTMFPT: -1, Send: true, Source: audiotest.NewTone(1000, 0.5)})
	b.Start(Params{Remote: a.LocalAddr(), Codec: codec.PCMU, DTMFPT: -1, Receive: true, Sink: rec})
	time.Sleep(600 * time.Millisecond)
	a.SetMuted(true)
	time.Sleep(100 * time.Millisecond) // what was in flight and in the jitter buffer plays out
	mark := len(rec.Samples())
	sentBefore := a.Stats().PacketsSent
	time.Sleep(600 * time.Millisecond)
	muted := rec.Samples()[mark:]
	if len(muted) < 2000 {
		t.Fatalf("only %d samples while muted", len(muted))
	}
	if found, lvl, _ := audiotest.DetectTone(muted, 8000, 1000); found {
		t.Fatalf("tone still heard while muted (%.1f dBFS)", lvl)
	}
	if a.Stats().PacketsSent-sentBefore < 20 {
		t.Fatal("muting stopped the RTP stream; it should send silence")
	}
	a.SetMuted(false)
	time.Sleep(600 * time.Millisecond)
	s := rec.Samples()
	if found, _, _ := audiotest.DetectTone(s[len(s)-2400:], 8000, 1000); !found {
		t.Fatal("no tone after unmuting")
	}
}

// TestAnswerOpensTheStreamAgain: at the answer after early media (Update that starts sending),
// a new SSRC plays at once (an SBC's ringback stops at the 200 and the callee's stream starts
// with no gap: its first 300 ms were dropped), and a far end behind NAT that sent no early
// media may still latch, though the window its 183 opened closed long ago (all its RTP was
// dropped for the whole call).
func TestAnswerOpensTheStreamAgain(t *testing.T) {
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sdpAddr := netip.MustParseAddrPort("127.0.0.1:40000")
	var nowNs atomic.Int64 // the session's goroutines read the clock too (Start)
	nowNs.Store(time.Unix(1000, 0).UnixNano())
	clock := func() time.Time { return time.Unix(0, nowNs.Load()) }
	advance := func(d time.Duration) { nowNs.Add(int64(d)) }
	s.now = clock
	early := Params{Remote: sdpAddr, Codec: codec.PCMU, DTMFPT: -1, Receive: true}
	s.Start(early)
	send := func(from netip.AddrPort, ssrc uint32, seq uint16) {
		p := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: ssrc, SequenceNumber: seq, Timestamp: uint32(seq) * 160}, Payload: make([]byte, 160)}
		b, _ := p.Marshal()
		var pkt rtp.Packet
		s.handleRTPAt(b, from, &pkt, clock())
	}
	send(sdpAddr, 1, 1) // the SBC's ringback
	advance(20 * time.Millisecond)
	answered := early
	answered.Send = true
	s.Update(answered)
	send(sdpAddr, 2, 1) // the callee, at once
	if st := s.Stats(); st.Dropped != 0 || st.PacketsReceived != 2 {
		t.Fatalf("stats %+v: want the callee's new SSRC played at once", st)
	}

	// A far end behind NAT: its 183 opened the window, it answers 30 s later, from its NAT.
	s2, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	s2.now = clock
	s2.Start(early)
	advance(30 * time.Second)
	s2.Update(answered)
	natted := netip.MustParseAddrPort("127.0.0.1:40100")
	p := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 7, SequenceNumber: 1, Timestamp: 160}, Payload: make([]byte, 160)}
	b, _ := p.Marshal()
	var pkt rtp.Packet
	s2.handleRTPAt(b, natted, &pkt, clock())
	if st := s2.Stats(); st.PacketsReceived != 1 || s2.Latched() != natted {
		t.Fatalf("stats %+v latched %v: want the NATed far end latched at its answer", st, s2.Latched())
	}
}
