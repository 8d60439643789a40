package media

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/codec"
	"github.com/dialtone/dialtone/phone/srtp"
)

// swappedKeys returns two ends' keys for a suite: a's local key is b's remote one and back.
func swappedKeys(t testing.TB, su srtp.Suite) (a, b *srtp.Keys) {
	t.Helper()
	ka, err := srtp.NewCrypto(1, su)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := srtp.NewCrypto(1, su)
	if err != nil {
		t.Fatal(err)
	}
	return &srtp.Keys{Local: ka, Remote: kb}, &srtp.Keys{Local: kb, Remote: ka}
}

// TestSRTPSessionsCarryTonesBothWays: two sessions with swapped keys carry a tone each way
// through SRTP over 127.0.0.1, for every suite, and nothing is dropped.
func TestSRTPSessionsCarryTonesBothWays(t *testing.T) {
	for _, su := range srtp.Suites {
		t.Run(su.String(), func(t *testing.T) {
			a, b := openPair(t)
			ka, kb := swappedKeys(t, su)
			recA, recB := audiotest.NewRecorder(), audiotest.NewRecorder()
			a.Start(Params{Remote: b.LocalAddr(), Codec: codec.PCMU, DTMFPT: 101, Send: true, Receive: true,
				Source: audiotest.NewTone(1000, 0.5), Sink: recA, SRTP: ka})
			b.Start(Params{Remote: a.LocalAddr(), Codec: codec.PCMU, DTMFPT: 101, Send: true, Receive: true,
				Source: audiotest.NewTone(1500, 0.5), Sink: recB, SRTP: kb})
			time.Sleep(1200 * time.Millisecond) // real time: this is the network path, not a timed assertion
			for _, x := range []struct {
				rec  *audiotest.Recorder
				want float64
			}{{recA, 1500}, {recB, 1000}} {
				s := x.rec.Samples()
				if len(s) < 6000 {
					t.Fatalf("only %d samples recorded", len(s))
				}
				if found, lvl, snr := audiotest.DetectTone(s[len(s)/3:], 8000, x.want); !found || lvl < -12 {
					t.Fatalf("no %v Hz tone: level %.1f dBFS snr %.1f", x.want, lvl, snr)
				}
			}
			for name, s := range map[string]*Session{"a": a, "b": b} {
				st, enc := s.SRTPStats()
				if !enc || st.Protected < 40 || st.Unprotected < 40 || st.AuthFailed+st.Replayed+st.Failed != 0 {
					t.Errorf("%s: encrypted %v, SRTP stats %+v", name, enc, st)
				}
				if ms := s.Stats(); ms.Dropped != 0 {
					t.Errorf("%s: media stats %+v", name, ms)
				}
			}
		})
	}
}

// TestSRTPOnTheWire reads what an encrypting session sends: no payload is in clear, each
// packet carries the suite's tag, and the far end's keys (in a stream of our own, not the
// session's receive path) recover the tone.
func TestSRTPOnTheWire(t *testing.T) {
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	spy := udpSocket(t)
	ka, kb := swappedKeys(t, srtp.AESCM128HMACSHA180)
	s.Start(Params{Remote: spy.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: codec.PCMU, DTMFPT: 101, Send: true,
		Source: audiotest.NewTone(1000, 0.5), SRTP: ka})
	far, err := srtp.NewStream(*kb)
	if err != nil {
		t.Fatal(err)
	}
	var pcm []int16
	buf := make([]byte, 1500)
	spy.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := 0; i < 25; i++ {
		n, err := spy.Read(buf)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if n != 12+160+10 {
			t.Fatalf("packet %d: %d bytes, want 182 (header, PCMU, 80-bit tag)", i, n)
		}
		wire := bytes.Clone(buf[:n])
		plain, err := far.UnprotectRTP(buf[:n])
		if err != nil {
			t.Fatalf("packet %d: the far end's key does not unprotect it: %v", i, err)
		}
		var pkt rtp.Packet
		if err := pkt.Unmarshal(plain); err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(wire[12:172], pkt.Payload) {
			t.Fatalf("packet %d: payload sent in clear", i)
		}
		out := make([]int16, 160)
		codec.PCMU.DecodeTo(out, pkt.Payload)
		pcm = append(pcm, out...)
	}
	if found, lvl, _ := audiotest.DetectTone(pcm[len(pcm)/3:], 8000, 1000); !found {
		t.Fatalf("the decrypted payload holds no 1000 Hz tone (level %.1f dBFS)", lvl)
	}
}

// protectTone returns an SRTP packet of a loud 1 kHz PCMU tone protected by st.
func protectTone(t *testing.T, st *srtp.Stream, seq uint16, ssrc uint32, tone bool) []byte {
	t.Helper()
	payload := make([]byte, 160, 160+16)
	samples := make([]int16, 160)
	if tone {
		samples = audiotest.NewTone(1000, 0.9).Samples(160)
	}
	codec.PCMU.EncodeTo(payload, samples)
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: ssrc}, Payload: payload}
	b := make([]byte, p.MarshalSize(), 200)
	if _, err := p.MarshalTo(b); err != nil {
		t.Fatal(err)
	}
	w, err := st.ProtectRTP(b)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestSRTPDropsForgeriesReplaysAndWrongKeys: a session with SRTP gets loud tone packets with
// a bad tag, with the wrong key (from the far end's address and from a stranger's), and
// replays of good ones: all are dropped and counted under their cause, none is played or
// reaches the jitter buffer, and the stranger never becomes the stream's source.
func TestSRTPDropsForgeriesReplaysAndWrongKeys(t *testing.T) {
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	farConn, stranger := udpSocket(t), udpSocket(t)
	farAddr := farConn.LocalAddr().(*net.UDPAddr).AddrPort()
	ours, theirs := swappedKeys(t, srtp.AEADAES128GCM)
	wrongKeys, _ := swappedKeys(t, srtp.AEADAES128GCM)
	rec := audiotest.NewRecorder()
	s.Start(Params{Remote: farAddr, Codec: codec.PCMU, DTMFPT: -1, Receive: true, Sink: rec, SRTP: ours})
	far, _ := srtp.NewStream(*theirs)
	wrong, _ := srtp.NewStream(*wrongKeys)
	send := func(c *net.UDPConn, b []byte) {
		if _, err := c.WriteToUDPAddrPort(b, s.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	const n = 30
	for i := range n {
		send(stranger, protectTone(t, wrong, uint16(100+i), 9, true)) // a stranger, wrong key
		send(farConn, protectTone(t, wrong, uint16(200+i), 5, true))  // the far end's address, wrong key
		forged := protectTone(t, far, uint16(300+i), 5, true)         // right key, tag broken
		forged[len(forged)-1] ^= 0x01
		send(farConn, forged)
	}
	sendTone(t, farConn, s.LocalAddr(), 5, 400, n) // plain RTP where SRTP was negotiated
	waitSRTP(t, s, func(st srtp.Stats) bool { return st.AuthFailed >= 4*n })
	if got := s.Latched(); got.IsValid() {
		t.Fatalf("latched on to %v after forgeries", got)
	}
	if st := s.Stats(); st.PacketsReceived != 0 {
		t.Fatalf("forgeries reached the stream: %+v", st)
	}
	// Good packets of silence, each then sent again: the copies are replays.
	for i := range n {
		good := protectTone(t, far, uint16(1+i), 5, false)
		send(farConn, good)
		send(farConn, good)
	}
	waitSRTP(t, s, func(st srtp.Stats) bool { return st.Unprotected+st.Replayed >= 2*n })
	time.Sleep(100 * time.Millisecond) // the jitter buffer plays out what it took
	st, enc := s.SRTPStats()
	if !enc || st.AuthFailed != 4*n || st.Replayed != n || st.Unprotected != n || st.Failed != 0 {
		t.Errorf("SRTP stats %+v, want %d auth failures, %d replays, %d good", st, 4*n, n, n)
	}
	if ms := s.Stats(); ms.PacketsReceived != n || ms.Dropped < 5*n {
		t.Errorf("media stats %+v: want exactly the %d good packets received, %d dropped", ms, n, 5*n)
	}
	if found, _, _ := audiotest.DetectTone(rec.Samples(), 8000, 1000); found {
		t.Fatal("a forged tone was played")
	}
	if got := s.Latched(); got.IsValid() {
		t.Fatalf("latched on to %v", got)
	}
}

// waitSRTP waits (5 s at most) until s's SRTP counters satisfy done.
func waitSRTP(t *testing.T, s *Session, done func(srtp.Stats) bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if st, _ := s.SRTPStats(); done(st) {
			return
		}
	}
	st, _ := s.SRTPStats()
	t.Fatalf("SRTP stats %+v after 5 s", st)
}

// TestSRTPRekeyOnUpdate: a re-INVITE brings new keys both ways mid-call; the tone carries on
// under the new keys, and packets under the old ones are refused.
func TestSRTPRekeyOnUpdate(t *testing.T) {
	a, b := openPair(t)
	ka, kb := swappedKeys(t, srtp.AESCM128HMACSHA180)
	recB := audiotest.NewRecorder()
	pa := Params{Remote: b.LocalAddr(), Codec: codec.PCMU, DTMFPT: 101, Send: true, Source: audiotest.NewTone(1000, 0.5), SRTP: ka}
	pb := Params{Remote: a.LocalAddr(), Codec: codec.PCMU, DTMFPT: 101, Receive: true, Sink: recB, SRTP: kb}
	a.Start(pa)
	b.Start(pb)
	time.Sleep(500 * time.Millisecond)
	oldFar, _ := srtp.NewStream(*ka)
	na, nb := swappedKeys(t, srtp.AEADAES256GCM)
	pb.SRTP = nb
	b.Update(pb)
	pa.SRTP = na
	a.Update(pa)
	mark := len(recB.Samples())
	time.Sleep(800 * time.Millisecond)
	s := recB.Samples()[mark:]
	if len(s) < 4000 {
		t.Fatalf("only %d samples after the rekey", len(s))
	}
	if found, lvl, _ := audiotest.DetectTone(s[len(s)/3:], 8000, 1000); !found {
		t.Fatalf("no tone after the rekey (level %.1f dBFS)", lvl)
	}
	st, _ := b.SRTPStats()
	// Packets a sent with its old key between the two Updates fail: a handful at most.
	if st.Unprotected < 50 || st.AuthFailed > 10 {
		t.Errorf("stats across the rekey %+v", st)
	}
	if _, err := udpSocket(t).WriteToUDPAddrPort(protectTone(t, oldFar, 7, 0x1234, true), b.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	waitSRTP(t, b, func(s srtp.Stats) bool { return s.AuthFailed > st.AuthFailed })
}

// TestSRTPSeamAllocs: protect and unprotect through the seam, RTP and RTCP, allocate nothing
// per packet once the stream is made (the RTCP report in a buffer sized as the pacer's).
func TestSRTPSeamAllocs(t *testing.T) {
	if srtpRaceEnabled {
		t.Skip("allocations are counted without the race detector, whose instrumentation allocates in pion's HMAC path")
	}
	a, b := openPair(t)
	ka, kb := swappedKeys(t, srtp.AESCM128HMACSHA180)
	pa := Params{Remote: b.LocalAddr(), Codec: codec.PCMU, SRTP: ka}
	pb := Params{Remote: a.LocalAddr(), Codec: codec.PCMU, SRTP: kb}
	buf := make([]byte, sendBufLen)
	var rtcpBuf [rtcpReportMax + srtcpTrailerMax]byte
	var rx rtp.Packet
	seq := uint16(0)
	round := func() {
		seq++
		h := rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 5}
		if _, err := h.MarshalTo(buf[:rtpHeaderRoom]); err != nil {
			t.Fatal(err)
		}
		wire, ok := a.protectRTP(pa, buf[:rtpHeaderRoom+160], &h)
		if !ok {
			t.Fatal("protect failed")
		}
		if err := rx.Unmarshal(wire); err != nil {
			t.Fatal(err)
		}
		if !b.unprotectRTP(pb, wire, &rx) || len(rx.Payload) != 160 || rx.SequenceNumber != seq {
			t.Fatalf("unprotect: payload %d bytes seq %d", len(rx.Payload), rx.SequenceNumber)
		}
		report := a.marshalReport(rtcpBuf[:], pa, time.Unix(1000, 0))
		want := len(report)
		w, ok := a.protectRTCP(pa, report)
		if !ok || len(w) != want+14 {
			t.Fatalf("protect RTCP: %v, %d bytes", ok, len(w))
		}
		if plain, ok := b.unprotectRTCP(pb, w); !ok || len(plain) != want {
			t.Fatalf("unprotect RTCP: %v", ok)
		}
	}
	round() // makes the streams
	if n := testing.AllocsPerRun(200, round); n != 0 {
		t.Errorf("%.1f allocations per RTP and RTCP round through the SRTP seam, want 0", n)
	}
}
