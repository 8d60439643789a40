package media

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/codec"
	"github.com/dialtone/dialtone/phone/srtp"
	"github.com/pion/rtp"
)

// TestSendPacksThePtimeAsked: the far end's a=ptime (Params.Ptime) sets the packets' duration
// for G.711: 10 ms packets halve each 20 ms frame, 30 to 60 ms ones join frames. The packets
// carry the same audio as 20 ms ones, in order, their timestamps and sequence numbers
// contiguous; a duration we cannot pack (25 ms) sends 20 ms packets.
func TestSendPacksThePtimeAsked(t *testing.T) {
	const frames = 12 // 240 ms
	for _, c := range []struct {
		codec codec.Codec
		ptime time.Duration
		size  int // octets a packet
	}{{codec.PCMU, 10 * time.Millisecond, 80}, {codec.PCMU, 30 * time.Millisecond, 240}, {codec.PCMU, 40 * time.Millisecond, 320},
		{codec.PCMU, 60 * time.Millisecond, 480}, {codec.PCMU, 25 * time.Millisecond, 160}, {codec.PCMU, 0, 160},
		// G.722: 16 kHz audio, an 8000 Hz clock: an octet a tick, two samples an octet.
		{codec.G722, 30 * time.Millisecond, 240}, {codec.G722, 10 * time.Millisecond, 80}} {
		t.Run(fmt.Sprint(c.codec.Name(), c.ptime), func(t *testing.T) {
			want := joined(sentPackets(t, c.codec, every(20*time.Millisecond, frames)))
			got := sentPackets(t, c.codec, every(c.ptime, frames))
			if len(got) != len(want)/c.size {
				t.Fatalf("%d packets for %d ms of audio, want %d of %d octets", len(got), frames*20, len(want)/c.size, c.size)
			}
			for i, p := range got {
				if len(p.Payload) != c.size {
					t.Fatalf("packet %d: %d octets, want %d", i, len(p.Payload), c.size)
				}
				if i == 0 {
					continue
				}
				if d := p.Timestamp - got[i-1].Timestamp; d != uint32(c.size) {
					t.Fatalf("packet %d: timestamp step %d, want %d", i, d, c.size)
				}
				if p.SequenceNumber != got[i-1].SequenceNumber+1 || p.Marker {
					t.Fatalf("packet %d: sequence %d after %d, marker %v", i, p.SequenceNumber, got[i-1].SequenceNumber, p.Marker)
				}
			}
			if !got[0].Marker {
				t.Error("the first packet has no marker")
			}
			if !bytes.Equal(joined(got), want) {
				t.Error("the packets do not carry the audio 20 ms packets carry")
			}
		})
	}
}

// TestSendPaceChangesMidCall: a re-INVITE that asks for another ptime mid-call (30 ms, then
// 20, then 40) sends what waited as one shorter packet: all the audio leaves, in order, with
// contiguous timestamps (before, 20 ms of it stayed behind and went out a second later with its
// old timestamp, leaving the stream a second behind its RTCP and DTMF timestamps).
func TestSendPaceChangesMidCall(t *testing.T) {
	var ptimes []time.Duration
	ptimes = append(ptimes, every(30*time.Millisecond, 5)...) // 100 ms: three packets, 10 ms waiting
	ptimes = append(ptimes, every(20*time.Millisecond, 50)...)
	ptimes = append(ptimes, every(40*time.Millisecond, 7)...)
	ptimes = append(ptimes, every(30*time.Millisecond, 4)...)
	ref := joined(sentPackets(t, codec.PCMU, every(20*time.Millisecond, len(ptimes))))
	got := sentPackets(t, codec.PCMU, ptimes)
	ts := got[0].Timestamp
	for i, p := range got {
		if p.Timestamp != ts {
			t.Fatalf("packet %d (%d octets): timestamp %d, want %d (contiguous)", i, len(p.Payload), p.Timestamp, ts)
		}
		ts += uint32(len(p.Payload))
	}
	// What is still packing at the end (40 of the last 30 ms packet's 80 octets) never left.
	if sent := joined(got); len(sent) < len(ref)-240 || !bytes.Equal(sent, ref[:len(sent)]) {
		t.Fatalf("%d octets sent of %d, or not the same audio", len(sent), len(ref))
	}
}

// TestSendPackedThenDTMF: a digit sent while packed audio waits: the event's packets, then the
// audio after it, never with a timestamp before the event's (the audio that waited is the
// event's to replace; sent after it, it went out with an older timestamp).
func TestSendPackedThenDTMF(t *testing.T) {
	r := newDTMFRig(t, 101)
	r.p.Ptime = 60 * time.Millisecond
	r.s.Update(r.p)
	var pkts []rtp.Packet
	send := func(frames int) {
		for range frames {
			r.s.tx.sendFrame(r.s, r.p, r.pcm, r.buf, &r.pkt)
		}
	}
	send(2) // 40 ms waiting
	if err := r.s.SendDTMF('5'); err != nil {
		t.Fatal(err)
	}
	send(30) // the event, its gap, then 60 ms packets again
	pkts = readPackets(t, r.far)
	var event uint32
	seenEvent := false
	for i, p := range pkts {
		switch {
		case p.PayloadType == 101:
			event, seenEvent = p.Timestamp, true
		case seenEvent && p.Timestamp < event:
			t.Fatalf("packet %d: audio with timestamp %d after the event's %d", i, p.Timestamp, event)
		}
	}
	if !seenEvent || pkts[len(pkts)-1].PayloadType != 0 || len(pkts[len(pkts)-1].Payload) != 480 {
		t.Fatalf("no event, or no 60 ms audio after it: %d packets", len(pkts))
	}
}

// TestSendPackedFlushesAtTheSourcesEnd: when the played file ends mid-packet, the audio that
// waits for the packet to fill leaves at once, before the "source ended" event (on which
// --hangup-on-eof hangs up), not with the silence after it.
func TestSendPackedFlushesAtTheSourcesEnd(t *testing.T) {
	s, far, p := sendingSession(t, codec.PCMU)
	p.Ptime = 60 * time.Millisecond
	src := audiotest.NewLoopback(16)
	tone := audiotest.NewTone(440, 0.5)
	frame := make([]int16, codec.FrameSamples)
	for range 4 { // 80 ms: one 60 ms packet, and 20 ms waiting when the file ends
		if err := tone.Read(frame); err != nil {
			t.Fatal(err)
		}
		if err := src.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	src.Close()
	p.Source = src
	pcm := make([]int16, codec.MaxFrameSamples)
	buf := make([]byte, sendBufLen)
	var pkt rtp.Packet
	for range 5 { // the fifth frame finds the end
		s.tx.sendFrame(s, p, pcm, buf, &pkt)
	}
	got := readPackets(t, far)
	if len(got) != 2 || len(got[0].Payload) != 480 || len(got[1].Payload) != 160 || got[1].Timestamp != got[0].Timestamp+480 {
		var sizes []int
		for _, g := range got {
			sizes = append(sizes, len(g.Payload))
		}
		t.Fatalf("packets of %v octets: want the 60 ms packet, then the last 20 ms of the file at once", sizes)
	}
}

func every(d time.Duration, frames int) []time.Duration {
	out := make([]time.Duration, frames)
	for i := range out {
		out[i] = d
	}
	return out
}

// sentPackets sends a 20 ms frame of a tone for each of ptimes through a session with c, asking
// for that ptime, to a socket of ours, and returns the packets that came.
func sentPackets(t *testing.T, c codec.Codec, ptimes []time.Duration) []rtp.Packet {
	t.Helper()
	s, far, p := sendingSession(t, c)
	s.tx.ts = 1000 // the sender's random start, fixed so that runs compare
	pcm := make([]int16, codec.MaxFrameSamples)
	buf := make([]byte, sendBufLen)
	var pkt rtp.Packet
	for _, d := range ptimes {
		p.Ptime = d
		s.tx.sendFrame(s, p, pcm, buf, &pkt)
	}
	return readPackets(t, far)
}

// readPackets reads the RTP packets that came to far until none comes for 200 ms.
func readPackets(t *testing.T, far *net.UDPConn) []rtp.Packet {
	t.Helper()
	var out []rtp.Packet
	b := make([]byte, 1500)
	for {
		if err := far.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		n, err := far.Read(b)
		if err != nil {
			return out // all that was sent has come: loopback keeps order and loses nothing at this rate
		}
		var r rtp.Packet
		if err := r.Unmarshal(append([]byte(nil), b[:n]...)); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
}

// sendingSession opens a session that sends a tone with c to a socket of ours, far; the test
// closes both.
func sendingSession(t *testing.T, c codec.Codec) (*Session, *net.UDPConn, Params) {
	t.Helper()
	s := openSession(t, Config{})
	far, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { far.Close() })
	p := Params{Remote: far.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: c, DTMFPT: -1, Send: true,
		Source: audiotest.NewTone(440, 0.5)}
	return s, far, p
}

func joined(ps []rtp.Packet) []byte {
	var b []byte
	for _, p := range ps {
		b = append(b, p.Payload...)
	}
	return b
}

// TestSendPackedAllocatesNothing: packing frames into 30 ms packets allocates nothing per frame
// once its buffer is made.
func TestSendPackedAllocatesNothing(t *testing.T) {
	s, _, p := sendingSession(t, codec.PCMU)
	p.Ptime = 30 * time.Millisecond
	pcm := make([]int16, codec.MaxFrameSamples)
	buf := make([]byte, sendBufLen)
	var pkt rtp.Packet
	sent := 0
	frame := func() {
		if s.tx.sendFrame(s, p, pcm, buf, &pkt) {
			sent++
		}
	}
	for range 10 {
		frame()
	}
	if a := testing.AllocsPerRun(300, frame); a != 0 {
		t.Errorf("%v allocations per frame", a)
	}
	if sent < 200 { // two packets every three frames
		t.Errorf("%d packets sent in 310 frames: the packing path was not the one measured", sent)
	}
}

// TestPackedSRTPBetweenSessions: two sessions over SRTP, each asking the other for a ptime (30
// and 40 ms): each packs what it sends to the other's wish, each follows the other's packets,
// and both hear the other's tone with nothing dropped or refused (SRTP protects the packed
// packets in place, one after another in the same buffer).
func TestPackedSRTPBetweenSessions(t *testing.T) {
	a, b := openPair(t)
	ka, kb := swappedKeys(t, srtp.Suites[0])
	recA, recB := audiotest.NewRecorder(), audiotest.NewRecorder()
	a.Start(Params{Remote: b.LocalAddr(), Codec: codec.PCMU, DTMFPT: 101, Send: true, Receive: true,
		Source: audiotest.NewTone(1000, 0.5), Sink: recA, SRTP: ka, Ptime: 40 * time.Millisecond})
	b.Start(Params{Remote: a.LocalAddr(), Codec: codec.PCMU, DTMFPT: 101, Send: true, Receive: true,
		Source: audiotest.NewTone(1500, 0.5), Sink: recB, SRTP: kb, Ptime: 30 * time.Millisecond})
	time.Sleep(1500 * time.Millisecond) // real time: this is the network path, not a timed assertion
	for _, x := range []struct {
		name  string
		s     *Session
		rec   *audiotest.Recorder
		want  float64
		frame time.Duration // what the other side packs for it
	}{{"a", a, recA, 1500, 30 * time.Millisecond}, {"b", b, recB, 1000, 40 * time.Millisecond}} {
		if got := x.s.Stats().PacketDuration; got != x.frame {
			t.Errorf("%s receives packets of %v, want %v", x.name, got, x.frame)
		}
		smp := x.rec.Samples()
		if len(smp) < 6000 {
			t.Fatalf("%s: only %d samples recorded", x.name, len(smp))
		}
		if found, lvl, snr := audiotest.DetectTone(smp[len(smp)/3:], 8000, x.want); !found || lvl < -12 {
			t.Errorf("%s: no %v Hz tone: level %.1f dBFS snr %.1f", x.name, x.want, lvl, snr)
		}
		if st, enc := x.s.SRTPStats(); !enc || st.Unprotected < 25 || st.AuthFailed+st.Replayed+st.Failed != 0 {
			t.Errorf("%s: encrypted %v, SRTP stats %+v", x.name, enc, st)
		}
		// Played whole, a frame is concealed only when the machine stalls the pacer; filed as
		// 20 ms frames, a third to half of them were.
		if ms := x.s.Stats(); ms.Dropped != 0 || ms.Concealed*10 > ms.PacketsReceived {
			t.Errorf("%s: media stats %+v", x.name, ms)
		}
	}
}

// TestSendPackedAudioBeforeADigitLeaves: with 60 ms packets, the 40 ms of audio waiting when a
// digit starts comes before the digit in time: it leaves as a shorter packet, its timestamps
// running on to the event's, instead of being dropped (a gap of speech and of timestamps).
func TestSendPackedAudioBeforeADigitLeaves(t *testing.T) {
	r := newDTMFRig(t, 101)
	r.p.Ptime = 60 * time.Millisecond
	r.s.Update(r.p)
	for range 2 { // 40 ms waiting
		r.s.tx.sendFrame(r.s, r.p, r.pcm, r.buf, &r.pkt)
	}
	if err := r.s.SendDTMF('5'); err != nil {
		t.Fatal(err)
	}
	r.s.tx.sendFrame(r.s, r.p, r.pcm, r.buf, &r.pkt)
	pkts := readPackets(t, r.far)
	if len(pkts) != 2 || pkts[0].PayloadType != 0 || len(pkts[0].Payload) != 320 || pkts[1].PayloadType != 101 ||
		pkts[1].Timestamp != pkts[0].Timestamp+320 || pkts[1].SequenceNumber != pkts[0].SequenceNumber+1 {
		var got []string
		for _, p := range pkts {
			got = append(got, fmt.Sprintf("pt %d ts %d seq %d %d octets", p.PayloadType, p.Timestamp, p.SequenceNumber, len(p.Payload)))
		}
		t.Fatalf("sent %v: want the 40 ms of audio, then the event right after it", got)
	}
}

// TestSourceEndsWhileUnheard: a played file that ends while the user is muted, or while a digit
// replaces its audio, ends all the same: "source ended" (on which --hangup-on-eof hangs up)
// came only once the audio was heard again, maybe never.
func TestSourceEndsWhileUnheard(t *testing.T) {
	for _, digit := range []bool{false, true} {
		r := newDTMFRig(t, 101)
		src := audiotest.NewLoopback(16)
		frame := make([]int16, codec.FrameSamples)
		for range 2 {
			if err := src.Write(frame); err != nil {
				t.Fatal(err)
			}
		}
		src.Close()
		r.p.Source, r.p.Muted = src, !digit
		if digit {
			if err := r.s.SendDTMF('1'); err != nil {
				t.Fatal(err)
			}
		}
		for range 4 { // the file's two frames, then its end
			r.s.tx.sendFrame(r.s, r.p, r.pcm, r.buf, &r.pkt)
		}
		select {
		case ev := <-r.s.Events():
			if !ev.SourceEnded {
				t.Fatalf("digit %v: event %+v, want the file's end", digit, ev)
			}
		default:
			t.Fatalf("digit %v: the file ended unheard and nobody was told", digit)
		}
	}
}
