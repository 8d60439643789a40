package media

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// TestDigitsOnTheirOwnSSRC: telephone-events that come as a stream of their own beside the
// audio (another SSRC, their own sequence numbers; some gateways do this) are taken as digits,
// whether the audio is flowing or has not started, and the audio is not disturbed. Before, the
// events were dropped as an interleaved stream while the audio flowed, and took the stream over
// when they came first, so the audio was dropped.
func TestDigitsOnTheirOwnSSRC(t *testing.T) {
	for _, c := range []struct {
		name       string
		digitsFrom int // the audio packet at which the digit's events start
	}{{"while the audio flows", 20}, {"before any audio", -12}} {
		t.Run(c.name, func(t *testing.T) {
			now := time.Unix(7000, 0)
			s := openSession(t, Config{Now: func() time.Time { return now }, NewTicker: noTicks})
			peer := netip.MustParseAddrPort("127.0.0.1:40000")
			s.Start(Params{Remote: peer, Codec: codec.PCMU, DTMFPT: 101, Receive: true})
			var scratch rtp.Packet
			send := func(pkt rtp.Packet) {
				b, err := pkt.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				s.handleRTPAt(b, peer, &scratch, now)
			}
			audio := 0
			for i := min(c.digitsFrom, 0); i < 60; i++ {
				now = now.Add(frameDur)
				if i >= 0 {
					send(rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 7, SequenceNumber: uint16(1000 + i), Timestamp: uint32(i) * 160}, Payload: make([]byte, 160)})
					audio++
				}
				if e := i - c.digitsFrom; e >= 0 && e < 9 { // digit 4: 6 updates, then 3 end packets
					payload := []byte{4, 10, 0, byte(160 * min(e+1, 6))}
					if e >= 6 {
						payload[1] |= 0x80
					}
					send(rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SSRC: 0xd7, SequenceNumber: uint16(50000 + e), Timestamp: 777000, Marker: e == 0}, Payload: payload})
				}
			}
			var digits []rune
			for len(s.Events()) > 0 {
				if ev := <-s.Events(); ev.Digit != 0 {
					digits = append(digits, ev.Digit)
				}
			}
			if string(digits) != "4" {
				t.Errorf("digits %q, want 4", string(digits))
			}
			st := s.Stats()
			if jb := s.rx.jitterStats(); st.Dropped != 0 || jb.Received != uint64(audio) || jb.Resyncs != 0 {
				t.Fatalf("stats %+v, jitter buffer %+v: want all %d audio packets taken, nothing dropped", st, jb, audio)
			}
		})
	}
}

// TestOneKeyPressOnTwoSSRCs: the same key press arriving on two SSRCs (a sender that sends its
// events on the audio's and on one of their own, or a B2BUA that changes the SSRC in mid-event)
// is one digit; the same key pressed again on the other SSRC, or again 100 ms later on both, is
// another. A receiver started afresh at each change of SSRC reported a digit at every switch.
func TestOneKeyPressOnTwoSSRCs(t *testing.T) {
	now := time.Unix(7000, 0)
	s := openSession(t, Config{Now: func() time.Time { return now }, NewTicker: noTicks})
	peer := netip.MustParseAddrPort("127.0.0.1:40000")
	s.Start(Params{Remote: peer, Codec: codec.PCMU, DTMFPT: 101, Receive: true})
	var scratch rtp.Packet
	event := func(ssrc uint32, seq uint16, ts uint32, e int) {
		payload := []byte{4, 10, 0, byte(160 * min(e+1, 6))}
		if e >= 6 {
			payload[1] |= 0x80
		}
		b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SSRC: ssrc, SequenceNumber: seq, Timestamp: ts, Marker: e == 0}, Payload: payload}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		s.handleRTPAt(b, peer, &scratch, now)
	}
	digits := func() string {
		var got []rune
		for len(s.Events()) > 0 {
			if ev := <-s.Events(); ev.Digit != 0 {
				got = append(got, ev.Digit)
			}
		}
		return string(got)
	}
	for e := range 9 { // interleaved on both
		now = now.Add(10 * time.Millisecond)
		event(7, uint16(100+e), 16000, e)
		event(0xd7, uint16(900+e), 555000, e)
	}
	if got := digits(); got != "4" {
		t.Fatalf("one press on both SSRCs: digits %q, want 4", got)
	}
	now = now.Add(time.Second)
	for e := range 9 { // a second press: on one SSRC, then the other takes over in mid-event
		now = now.Add(20 * time.Millisecond)
		if e < 4 {
			event(7, uint16(200+e), 32000, e)
		} else {
			event(0xd8, uint16(1200+e), 777000, e)
		}
	}
	if got := digits(); got != "4" {
		t.Fatalf("a second press whose SSRC changed in mid-event: digits %q, want 4", got)
	}
	now = now.Add(time.Second)
	for e := range 9 { // a third, on the side stream alone
		now = now.Add(20 * time.Millisecond)
		event(0xd8, uint16(1300+e), 787000, e)
	}
	if got := digits(); got != "4" {
		t.Fatalf("a third press: digits %q, want 4", got)
	}
	now = now.Add(time.Second)
	for press := range 2 { // the key pressed twice, 100 ms apart, each press sent on both
		for e := range 9 {
			now = now.Add(10 * time.Millisecond)
			event(7, uint16(300+10*press+e), uint32(48000+8000*press), e)
			event(0xd8, uint16(1400+10*press+e), uint32(797000+8000*press), e)
		}
		now = now.Add(100 * time.Millisecond)
	}
	if got := digits(); got != "44" {
		t.Fatalf("a key pressed twice, each press on both SSRCs: digits %q, want 44", got)
	}
}

// TestQuickRepeatOnTwoSSRCsWithALateEnd: the key pressed twice at the shortest spacing (60 ms
// tone, 40 ms pause), each press sent on both SSRCs, one stream's End 25 ms late: two digits.
// The window after the other stream's End swallowed the second press.
func TestQuickRepeatOnTwoSSRCsWithALateEnd(t *testing.T) {
	start := time.Unix(7000, 0)
	now := start
	s := openSession(t, Config{Now: func() time.Time { return now }, NewTicker: noTicks})
	peer := netip.MustParseAddrPort("127.0.0.1:40000")
	s.Start(Params{Remote: peer, Codec: codec.PCMU, DTMFPT: 101, Receive: true})
	var scratch rtp.Packet
	type ev struct {
		at   time.Duration
		ssrc uint32
		seq  uint16
		ts   uint32
		dur  uint16
		end  bool
	}
	var evs []ev
	for press := range 2 {
		base := time.Duration(press) * 100 * time.Millisecond
		for _, st := range []struct {
			ssrc    uint32
			endLate time.Duration
		}{{7, 0}, {0xd8, 25 * time.Millisecond}} {
			ts := uint32(16000 + 800*press)
			for i := range 3 { // 20, 40, 60 ms of the tone, the last one the End
				at := base + time.Duration(i+1)*20*time.Millisecond
				if i == 2 {
					at += st.endLate
				}
				evs = append(evs, ev{at, st.ssrc, uint16(10*press + i), ts, uint16(160 * (i + 1)), i == 2})
			}
		}
	}
	slices.SortStableFunc(evs, func(a, b ev) int { return int(a.at - b.at) })
	for _, e := range evs {
		now = start.Add(e.at)
		payload := []byte{4, 10, byte(e.dur >> 8), byte(e.dur)}
		if e.end {
			payload[1] |= 0x80
		}
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SSRC: e.ssrc, SequenceNumber: e.seq, Timestamp: e.ts}, Payload: payload}).Marshal()
		s.handleRTPAt(b, peer, &scratch, now)
	}
	var got []rune
	for len(s.Events()) > 0 {
		if e := <-s.Events(); e.Digit != 0 {
			got = append(got, e.Digit)
		}
	}
	if string(got) != "44" {
		t.Fatalf("digits %q, want 44", string(got))
	}
}
