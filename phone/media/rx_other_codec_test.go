package media

import (
	"testing"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// TestOtherCodecOfTheAnswerPlays: a call settled on a 16 kHz codec whose far end switches,
// without a re-INVITE, to PCMU, which its answer also listed (RFC 3264 §5.1; Asterisk does when
// it bridges the call on), and back: each plays at its own rate, the tone heard throughout, and
// nothing is dropped but a packet of the old codec that comes after the switch. Before, the
// PCMU packets were dropped as a codec not negotiated: silence.
func TestOtherCodecOfTheAnswerPlays(t *testing.T) {
	rec := audiotest.NewRecorder()
	r := newRateRig(t, fakeG722, rec)
	r.p.RecvOther = []RecvCodec{{PT: 0, Codec: codec.PCMU}}
	r.s.Update(r.p)
	r.p = r.s.current()
	wide := audiotest.NewTone(1000, 0.5)
	narrow := audiotest.NewTone(1000, 0.5)
	wide.SetRate(16000)
	pcm := make([]int16, codec.MaxFrameSamples)
	payload := make([]byte, 320)
	ts := uint32(0)
	send := func(f int, c codec.Codec) {
		n := codec.FrameSamplesAt(c.SampleRate())
		src := wide
		if c == codec.PCMU {
			src = narrow
		}
		if err := src.Read(pcm[:n]); err != nil {
			t.Fatal(err)
		}
		body := payload[:codec.PCMU.EncodeTo(payload[:n], pcm[:n])] // fakeG722 carries µ-law at 16 kHz
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: c.PayloadType(), SSRC: 7, SequenceNumber: uint16(f), Timestamp: ts}, Payload: body}
		ts += 160 // both clocks are 8000
		w, _ := pkt.MarshalTo(r.wire)
		r.s.handleRTP(r.wire[:w], r.peer, &r.rx)
	}
	f := 0
	for n, phase := range []codec.Codec{fakeG722, codec.PCMU, fakeG722} {
		for i := range 50 {
			r.now = r.now.Add(frameDur)
			send(f, phase)
			if n == 1 && i == 1 {
				// A G722 packet from before the switch comes late: dropped, not played, and
				// the PCMU buffered meanwhile is not flushed for it.
				late := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 9, SSRC: 7, SequenceNumber: uint16(f - 3), Timestamp: ts - 4*160}, Payload: payload[:320]}
				w, _ := late.MarshalTo(r.wire)
				r.s.handleRTP(r.wire[:w], r.peer, &r.rx)
			}
			r.s.rx.playFrame(r.s, r.p, r.now, r.out)
			f++
		}
	}
	if st := r.s.Stats(); st.Dropped != 1 {
		t.Fatalf("stats %+v: want only the straggler from before the switch dropped", st)
	}
	if ch := rec.Rates(); len(ch) != 3 || ch[0].Rate != 16000 || ch[1].Rate != 8000 || ch[2].Rate != 16000 {
		t.Fatalf("sink rate changes %v, want 16000, to 8000 for PCMU and back to 16000", ch)
	}
	toneAfterStartup(t, "PCMU from the far end of a G722 call", rec.SamplesAt(8000), 8000, 1000)
	toneAfterStartup(t, "G722 before and after", rec.SamplesAt(16000), 16000, 1000)
}

// TestDigitsAtAnotherRate: telephone-events with one of RecvDTMFOther's payload types (those
// at the answer's other clock rates, which the far end uses once it switches codec) are digits;
// they were dropped as not negotiated.
func TestDigitsAtAnotherRate(t *testing.T) {
	r := newRateRig(t, codec.PCMU, audiotest.NewRecorder())
	r.p.RecvDTMFOther = []uint8{110}
	r.s.Update(r.p)
	for e := range 9 {
		payload := []byte{7, 10, 0, byte(240 * min(e+1, 6))}
		if e >= 6 {
			payload[1] |= 0x80
		}
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 110, SSRC: 7, SequenceNumber: uint16(e), Timestamp: 960000, Marker: e == 0}, Payload: payload}
		w, _ := pkt.MarshalTo(r.wire)
		r.s.handleRTP(r.wire[:w], r.peer, &r.rx)
	}
	var digits []rune
	for len(r.s.Events()) > 0 {
		if ev := <-r.s.Events(); ev.Digit != 0 {
			digits = append(digits, ev.Digit)
		}
	}
	if string(digits) != "7" || r.s.Stats().Dropped != 0 {
		t.Fatalf("digits %q, stats %+v; want 7, nothing dropped", string(digits), r.s.Stats())
	}
}

// TestBeforeSwitchIsOnlyNearTheSwitch: a packet of the codec before a switch is taken for one
// reordered across it only just before the packet that switched; one long after (the far end
// switching back, its sequence numbers half a wrap on), or far before, is a switch of its own.
// Without the bound a switch back after 32768 packets (11 minutes of music on hold) compared as
// "before", and every packet of it was dropped.
func TestBeforeSwitchIsOnlyNearTheSwitch(t *testing.T) {
	for _, c := range []struct {
		seq   uint16
		stale bool
	}{{99, true}, {100 - switchReorder + 1, true}, {100 - switchReorder, false}, {100 + 40000, false}, {101, false}} {
		r := receiver{jbCodec: codec.PCMU, switched: true, switchSSRC: 7, switchSeq: 100}
		pkt := rtp.Packet{Header: rtp.Header{SSRC: 7, SequenceNumber: c.seq}}
		if got := r.beforeSwitch(fakeG722, &pkt); got != c.stale {
			t.Errorf("seq %d after a switch at 100: stale %v, want %v", c.seq, got, c.stale)
		}
	}
}
