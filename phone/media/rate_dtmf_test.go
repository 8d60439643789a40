package media

import (
	"net/netip"
	"testing"
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// TestDTMFDurationsInCodecClock: with a 48000 clock (Opus), an event's duration grows by 960
// per frame to DTMFDuration (5760 for 120 ms), in the clock the timestamps run in.
func TestDTMFDurationsInCodecClock(t *testing.T) {
	r := newDTMFRig(t, 101)
	r.p.Codec = fakeOpus
	r.s.Update(r.p)
	r.pcm = make([]int16, codec.MaxFrameSamples)
	if err := r.s.SendDTMF('5'); err != nil {
		t.Fatal(err)
	}
	var last codec.DTMFEvent
	for i := range 6 {
		got := r.frame()
		ev, err := codec.ParseDTMFEvent(got.Payload)
		if err != nil || got.PayloadType != 101 {
			t.Fatalf("frame %d: PT %d, %v", i, got.PayloadType, err)
		}
		if want := uint16(min(i+1, 6) * 960); ev.Duration != want {
			t.Fatalf("frame %d: duration %d, want %d", i, ev.Duration, want)
		}
		last = ev
	}
	if !last.End || last.Duration != 5760 {
		t.Fatalf("last packet %+v, want the End with 5760", last)
	}
	// A peer that offered telephone-event/8000 beside opus/48000: durations in its clock.
	for range 3 {
		r.frame() // the End repeats
	}
	r.p.DTMFRate = 8000
	r.s.Update(r.p)
	if err := r.s.SendDTMF('6'); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		got := r.frame()
		if got.PayloadType != 101 {
			continue // the gap between the digits
		}
		ev, err := codec.ParseDTMFEvent(got.Payload)
		if err != nil || ev.Event != 6 || ev.Duration != 160 {
			t.Fatalf("frame %d: %+v %v, want digit 6 with 160 (20 ms at 8000)", i, ev, err)
		}
		return
	}
	t.Fatal("the second digit was never sent")
}

// TestRTCPJitterInCodecClock: RFC 3550's interarrival jitter counts in the stream's clock: a
// packet 1 ms off its schedule is 48 units at 48 kHz, 8 at 8 kHz.
func TestRTCPJitterInCodecClock(t *testing.T) {
	for _, clock := range []int{8000, 48000} {
		var tx sender
		t0 := time.Unix(5000, 0)
		step := uint32(clock / 50)
		for i := range 200 {
			at := t0.Add(time.Duration(i) * frameDur)
			if i%2 == 1 {
				at = at.Add(time.Millisecond)
			}
			tx.noteReceived(1, uint16(i), uint32(i)*step, at, clock, true)
		}
		rr, _ := tx.reportBlock(t0)
		// Every transit difference is 1 ms: the estimate converges to it.
		if want := uint32(clock / 1000); rr.Jitter < want-1 || rr.Jitter > want {
			t.Fatalf("%d Hz: jitter %d units, want about %d (1 ms)", clock, rr.Jitter, want)
		}
	}
}

// TestRTCPJitterAcrossTimestampWrap: a perfectly regular stream whose 32-bit timestamp wraps
// (every ~25 h at 48 kHz, from a random start) reports no jitter; computed in 64 bits the
// transit jumped by 2^32 and the report said hours.
func TestRTCPJitterAcrossTimestampWrap(t *testing.T) {
	var tx sender
	t0 := time.Unix(5000, 0)
	start := uint32(0xFFFFFFFF - 160*50) // wraps after 50 packets
	for i := range 100 {
		tx.noteReceived(1, uint16(i), start+uint32(i)*160, t0.Add(time.Duration(i)*frameDur), 8000, true)
	}
	if rr, _ := tx.reportBlock(t0); rr.Jitter > 1 {
		t.Fatalf("jitter %d units across the wrap, want 0", rr.Jitter)
	}
}

// TestRTCPCountsEveryPacketOfTheStream: telephone-event and comfort-noise packets share the
// stream's sequence numbers; left out of the count, each digit the far end sent was reported
// to it as loss.
func TestRTCPCountsEveryPacketOfTheStream(t *testing.T) {
	var tx sender
	t0 := time.Unix(5000, 0)
	for i := range 30 {
		timed := i < 10 || i >= 19 // 9 telephone-event packets in the middle
		ts := uint32(i) * 160
		if !timed {
			ts = 10 * 160 // a digit's packets all carry its start
		}
		tx.noteReceived(1, uint16(i), ts, t0.Add(time.Duration(i)*frameDur), 8000, timed)
	}
	rr, _ := tx.reportBlock(t0)
	if rr.TotalLost != 0 || rr.FractionLost != 0 {
		t.Fatalf("reported %d lost (fraction %d/256) of a stream with none missing", rr.TotalLost, rr.FractionLost)
	}
	if rr.Jitter > 1 {
		t.Fatalf("jitter %d units: the digit's timestamps fed it", rr.Jitter)
	}
}

// TestReceiverReportCountsDigits: a session that receives audio, a digit (telephone-event
// packets in the same sequence) and audio again reports nothing lost to the far end; each
// digit was reported as 9 packets lost.
func TestReceiverReportCountsDigits(t *testing.T) {
	now := time.Unix(7000, 0)
	s := openSession(t, Config{Now: func() time.Time { return now }, NewTicker: noTicks})
	peer := netip.MustParseAddrPort("127.0.0.1:40000")
	s.Start(Params{Remote: peer, Codec: codec.PCMU, DTMFPT: 101, Receive: true})
	var scratch rtp.Packet
	for i := range 29 {
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 7, SequenceNumber: uint16(1000 + i), Timestamp: uint32(i) * 160}, Payload: make([]byte, 160)}
		if i >= 10 && i < 19 {
			pkt.PayloadType, pkt.Timestamp, pkt.Payload = 101, 10*160, []byte{5, 10, 0, 160} // digit 5
		}
		b, _ := pkt.Marshal()
		now = now.Add(frameDur)
		s.handleRTPAt(b, peer, &scratch, now)
	}
	rr, ok := s.tx.reportBlock(now)
	if !ok || rr.TotalLost != 0 || rr.FractionLost != 0 {
		t.Fatalf("report %+v (ok %v): want nothing lost", rr, ok)
	}
}
